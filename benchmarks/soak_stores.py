"""The soak of tests/soak.py, longer: the whole mix against SQLite and PostgreSQL.

Three writer processes (add_many batches and single adds), expire_stale and
prune in a loop, stores opening mid-traffic, a registrar, and on PostgreSQL
a killed connection every --kill-every seconds. It fails (AssertionError) on
any exception in any process, any acknowledged receipt not applied, or a
part index that does not match the messages. tests/test_store_soak.py runs
it at scale 1 (a few seconds); the default here runs about 45 s a store.

Run:  python benchmarks/soak_stores.py [--scale 30] [--kill-every 0.3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.pg_server import (
    PostgresUnavailableError,
    reset_dlrkit_tables,
    throwaway_postgres,
)
from tests.soak import run_soak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=30)
    parser.add_argument("--kill-every", type=float, default=0.3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("sqlite  ", run_soak("sqlite", str(Path(tmp) / "soak.db"), scale=args.scale))
    try:
        with throwaway_postgres() as dsn:
            reset_dlrkit_tables(dsn)
            summary = run_soak("postgres", dsn, scale=args.scale, kill_every=args.kill_every)
            print("postgres", summary)
    except PostgresUnavailableError as why:
        print(f"postgres: skipped ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
