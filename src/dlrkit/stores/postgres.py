"""PostgresStore: a tracker's state in PostgreSQL, for apps on several machines.

Needs the ``postgres`` extra (psycopg 3): ``pip install "dlrkit[postgres]"``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._parse import parse
from .._receipt import DeliveryReceipt
from ._sql import SCHEMA, SQLStore, SQLTransaction

__all__ = ["PostgresStore"]


class PostgresStore(SQLStore):
    """Keeps a tracker's state in PostgreSQL.

    Same guarantees as :class:`~dlrkit.SQLiteStore`, across machines: each
    change is one transaction. Receipts of the same part are serialised by a
    transaction-scoped advisory lock on the part id; receipts of different
    parts of one message by a row lock (``SELECT ... FOR UPDATE``) on the
    message; records are written with ``INSERT ... ON CONFLICT``. A receipt
    is acknowledged only after its transaction committed.

    *dsn* is a libpq connection string or URL. One store object may be shared
    by threads (it holds one connection); each process opens its own.
    """

    def __init__(self, dsn: str, *, connect_timeout: int = 10) -> None:
        try:
            import psycopg
        except ImportError as error:  # pragma: no cover - depends on the extra
            raise ImportError(
                'PostgresStore needs psycopg 3: pip install "dlrkit[postgres]"'
            ) from error
        self.dsn = dsn
        self._lock = threading.RLock()
        self._conn: Any = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
        with self.transaction():
            # Serialise concurrent first starts: CREATE ... IF NOT EXISTS can race.
            self._conn.execute("SELECT pg_advisory_xact_lock(7171717171)")
            for statement in SCHEMA:
                self._conn.execute(statement.format(serial="BIGSERIAL"))

    @contextmanager
    def transaction(self) -> Iterator[_PostgresTransaction]:
        with self._lock, self._conn.transaction():
            yield _PostgresTransaction(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _PostgresTransaction(SQLTransaction):
    placeholder = "%s"
    # Receipts of different parts of one message wait for each other here. The
    # message's row only: locking its parts' rows too could deadlock with
    # prune(), which locks parts before messages.
    lock_clause = " FOR UPDATE OF m"

    def lock(self, message_ids: Sequence[str]) -> None:
        # Sorted, so that two transactions never wait on each other in a cycle.
        for mid in sorted(set(message_ids)):
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (mid,))

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        rows = self._conn.execute(
            "DELETE FROM dlrkit_orphans WHERE message_id = ANY(%s) RETURNING id, receipt, received",
            (list(message_ids),),
        ).fetchall()
        rows.sort()
        return [parse(json.loads(text)) for _, text, received in rows if received >= expired_before]
