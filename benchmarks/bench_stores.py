"""Batched throughput of the SQL stores: part-receipts per second through Tracker.add_many.

The receipts are bench_tracker's realistic ones (every field the provider
sends): 3 parts a message, each part an interim receipt and a final one. They
arrive as they would: message m is sent at m / 1000 s, its interim receipts
come 1-5 s later and its final ones 5-60 s later, and the stream is cut, in
that order, into batches of --batch receipts (what a webhook's queue holds
when it is drained). Batch i goes to writer process i % 3, so the writers
contend for messages as web workers do. Each writer opens its own store;
the time runs from a start barrier to the last writer's last commit.

Peer, in the same run: the same writers, each receipt through Tracker.add
(one transaction a receipt), over the first --peer-receipts receipts of the
same stream. SQLite runs with synchronous=FULL (an fsync a commit), in WAL
mode; PostgreSQL is a throwaway local cluster with default settings.

Each run starts from empty tables; the figures are the median of --runs runs
and their spread (lowest to highest).

Run:  python benchmarks/bench_stores.py [--messages 5000] [--batch 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import dlrkit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from _timing import timed_writers  # noqa: E402
from bench_tracker import PARTS, receipts_of, send_response  # noqa: E402
from tests.pg_server import (  # noqa: E402
    PostgresUnavailableError,
    reset_dlrkit_tables,
    throwaway_postgres,
)

WRITERS = 3
TARGETS = {"sqlite": 20_000, "postgres": 10_000}

WRITER = """
import sys
import dlrkit
bench_dir, kind, target, mode = sys.argv[1:5]
writer, writers, messages, batch, limit = map(int, sys.argv[5:])
sys.path.insert(0, bench_dir)
from bench_stores import batches, open_store
tracker = dlrkit.Tracker(open_store(kind, target))
mine = batches(messages, batch)[writer::writers]
print("ready", flush=True)
sys.stdin.readline()
done = 0
for receipts in mine:
    if mode == "add_many":
        tracker.add_many(receipts)
    else:
        receipts = receipts[: max(0, limit - done)]
        for r in receipts:
            tracker.add(r)
    done += len(receipts)
print(done, flush=True)
"""


def stream(messages: int) -> list[dlrkit.DeliveryReceipt]:
    """Every receipt of *messages* messages, in the order they arrive (see the module)."""
    rng = random.Random(16)
    timed = []
    for m in range(messages):
        sent = m / 1000
        for receipt in receipts_of(m):
            delay = rng.uniform(5, 60) if receipt.is_final else rng.uniform(1, 5)
            timed.append((sent + delay, receipt.message_id, receipt))
    timed.sort(key=lambda t: t[:2])
    return [receipt for _, _, receipt in timed]


def batches(messages: int, size: int) -> list[list[dlrkit.DeliveryReceipt]]:
    receipts = stream(messages)
    return [receipts[i : i + size] for i in range(0, len(receipts), size)]


def open_store(kind: str, target: str) -> Any:
    if kind == "sqlite":
        return dlrkit.SQLiteStore(target)  # synchronous="FULL", the default
    from dlrkit.stores import PostgresStore

    return PostgresStore(target)


def run(kind: str, target: str, messages: int, batch: int, mode: str, limit: int) -> float:
    """One run: register every message, then time the writers; part-receipts per second."""
    store = open_store(kind, target)
    tracker = dlrkit.Tracker(store)
    for m in range(messages):
        tracker.expect(send_response(m))
    if kind == "postgres":  # statistics, as autovacuum keeps them for a live table
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("ANALYZE")

    total, elapsed = timed_writers(
        WRITER,
        [
            [str(HERE), kind, target, mode, *map(str, (w, WRITERS, messages, batch, limit))]
            for w in range(WRITERS)
        ],
    )
    if mode == "add_many":
        done = sum(1 for m in range(messages) if tracker.get(f"M{m}P0").is_complete)  # type: ignore[union-attr]
        assert done == messages, f"only {done} of {messages} messages complete"
    store.close()
    return total / elapsed


def report(name: str, rates: list[float], target: int | None = None) -> None:
    median = statistics.median(rates)
    flag = (
        "" if target is None else f"  target >= {target:,} {'ok' if median >= target else 'MISS'}"
    )
    print(
        f"  {name:<38} {median:>9,.0f}/s  ({min(rates):,.0f} to {max(rates):,.0f},"
        f" {len(rates)} runs){flag}"
    )


def bench(kind: str, fresh: Any, args: argparse.Namespace) -> None:
    many: list[float] = []
    single: list[float] = []
    for _ in range(args.runs):  # alternating, so that both see the same machine
        many.append(run(kind, fresh(), args.messages, args.batch, "add_many", 0))
        limit = args.peer_receipts // WRITERS
        single.append(run(kind, fresh(), args.messages, args.batch, "add", limit))
    report(f"{kind}, add_many, batches of {args.batch}", many, TARGETS[kind])
    report(f"{kind}, add (peer: a transaction each)", single)
    print(f"  {'':<38} add_many: {statistics.median(many) / statistics.median(single):.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-receipts", type=int, default=3000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    print(
        f"dlrkit {dlrkit.__version__}: part-receipts per second, {PARTS} parts a message,"
        f" {WRITERS} writer processes, {args.messages * PARTS * 2:,} receipts a run"
    )
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            counter = iter(range(1_000_000))
            bench("sqlite", lambda: str(Path(tmp) / f"bench-{next(counter)}.db"), args)
    if args.only != "sqlite":
        try:
            with throwaway_postgres() as dsn:

                def fresh() -> str:
                    reset_dlrkit_tables(dsn)
                    return dsn

                bench("postgres", fresh, args)
        except PostgresUnavailableError as why:
            print(f"  PostgreSQL: skipped ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
