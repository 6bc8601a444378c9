from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import dlrkit

from .pg_server import PostgresUnavailableError, reset_dlrkit_tables, throwaway_postgres

# Wall-clock deadlines make property tests flaky on a loaded CI machine without
# testing any behaviour; example counts are what matter.
settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz", deadline=None, max_examples=20_000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


# -- a throwaway PostgreSQL server for the PostgresStore tests ------------------------------


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A DSN for a PostgreSQL cluster started for this test session (Unix socket only)."""
    pytest.importorskip("psycopg", reason="PostgresStore tests need the postgres extra")
    try:
        with throwaway_postgres() as dsn:
            yield dsn
    except PostgresUnavailableError as why:
        pytest.skip(str(why))


# The start of a script run as a separate process (python -c SCRIPT KIND TARGET
# ...): opens the store of the backend fixture's (kind, target) as ``store``.
OPEN_STORE = """
import sys
import dlrkit
kind, target = sys.argv[1], sys.argv[2]
if kind == "sqlite":
    store = dlrkit.SQLiteStore(target)
else:
    from dlrkit.stores import PostgresStore
    store = PostgresStore(target)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, Any]:
    """("sqlite", path, open_store) or ("postgres", dsn, open_store): one empty database."""
    return open_backend(request.param, request, tmp_path)


def open_backend(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, Any]:
    """The *backend* fixture's value for one kind (for fixtures with more params)."""
    if kind == "sqlite":
        path = str(tmp_path / "shared.db")
        return "sqlite", path, lambda: dlrkit.SQLiteStore(path)
    dsn = request.getfixturevalue("postgres_dsn")
    from dlrkit.stores import PostgresStore

    setup = PostgresStore(dsn)
    reset_dlrkit_tables(dsn)
    setup.close()
    return "postgres", dsn, lambda: PostgresStore(dsn)
