"""The soak of tests/soak.py, kept short: writers, maintenance, start-ups, a registrar
and (PostgreSQL) killed connections, all at once, with zero errors and no receipt lost.

benchmarks/soak_stores.py runs the same mix for longer.
"""

from __future__ import annotations

from pathlib import Path

from .pg_server import reset_dlrkit_tables
from .soak import run_soak


def test_sqlite_soak(tmp_path: Path) -> None:
    summary = run_soak("sqlite", str(tmp_path / "soak.db"), scale=1)
    assert summary["runs"] > 0 and summary["opened"] > 0, summary


def test_postgres_soak(postgres_dsn: str) -> None:
    reset_dlrkit_tables(postgres_dsn)
    summary = run_soak("postgres", postgres_dsn, scale=1, kill_every=0.3)
    assert summary["runs"] > 0 and summary["opened"] > 0, summary
    if summary["seconds"] > 1:
        assert summary["killed"] > 0, summary
