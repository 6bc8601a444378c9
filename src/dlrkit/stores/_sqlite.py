"""SQLiteStore: a tracker's state in an SQLite file, safe for several processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

from .._parse import parse
from .._receipt import DeliveryReceipt
from ._sql import SCHEMA, SQLStore, SQLTransaction

__all__ = ["SQLiteStore"]

_SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL", "EXTRA")


class SQLiteStore(SQLStore):
    """Keeps a tracker's state in an SQLite database file.

    The embedded choice for several processes on one machine (web workers,
    a queue consumer): every change is one ``BEGIN IMMEDIATE`` transaction,
    so writers are serialised and no update is lost; a receipt is
    acknowledged only after its transaction committed. The database runs in
    WAL mode so readers never block writers. ``synchronous="FULL"`` (the
    default) makes each commit durable against power loss as well as a
    killed process; ``"NORMAL"`` is faster and still loses nothing when only
    the process dies.

    One store object may be shared by threads; each process opens its own.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        synchronous: str = "FULL",
    ) -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        # isolation_level=None: transactions are begun explicitly below.
        self._conn = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        with self.transaction():
            for statement in SCHEMA:
                self._conn.execute(statement.format(serial="INTEGER"))

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteTransaction]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteTransaction(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _SQLiteTransaction(SQLTransaction):
    def lock(self, message_ids: Sequence[str]) -> None:
        pass  # BEGIN IMMEDIATE already holds the database's write lock

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        marks = ", ".join("?" * len(message_ids))
        rows = self._conn.execute(
            f"SELECT receipt, received FROM dlrkit_orphans WHERE message_id IN ({marks}) "
            "ORDER BY id",
            list(message_ids),
        ).fetchall()
        self._conn.execute(
            f"DELETE FROM dlrkit_orphans WHERE message_id IN ({marks})", list(message_ids)
        )
        return [parse(json.loads(text)) for text, received in rows if received >= expired_before]
