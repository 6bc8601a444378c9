"""PostgresStore: a tracker's state in PostgreSQL, for apps on several machines.

Needs the ``postgres`` extra (psycopg 3): ``pip install "dlrkit[postgres]"``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._concat import MessageRecord
from .._parse import parse
from .._receipt import DeliveryReceipt
from ._sql import SCHEMA, orphan_json

__all__ = ["PostgresStore"]


class PostgresStore:
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

    def pending(self, created_before: float) -> list[str]:
        with self.transaction():
            rows = self._conn.execute(
                "SELECT key FROM dlrkit_messages WHERE complete = 0 AND created < %s",
                (created_before,),
            ).fetchall()
        return [str(key) for (key,) in rows]

    def prune(self, updated_before: float) -> int:
        with self.transaction():
            conn = self._conn
            conn.execute(
                "DELETE FROM dlrkit_parts WHERE key IN "
                "(SELECT key FROM dlrkit_messages WHERE updated < %s)",
                (updated_before,),
            )
            messages = conn.execute(
                "DELETE FROM dlrkit_messages WHERE updated < %s", (updated_before,)
            ).rowcount
            orphans = conn.execute(
                "DELETE FROM dlrkit_orphans WHERE received < %s", (updated_before,)
            ).rowcount
        return int(messages) + int(orphans)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _PostgresTransaction:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def lock(self, message_ids: Sequence[str]) -> None:
        # Sorted, so that two transactions never wait on each other in a cycle.
        for mid in sorted(set(message_ids)):
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (mid,))

    def key_for(self, message_id: str) -> str | None:
        row = self._conn.execute(
            "SELECT key FROM dlrkit_parts WHERE message_id = %s", (message_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def load(self, key: str) -> MessageRecord | None:
        row = self._conn.execute(
            "SELECT record FROM dlrkit_messages WHERE key = %s FOR UPDATE", (key,)
        ).fetchone()
        return None if row is None else MessageRecord.from_json(row[0])

    def save(self, record: MessageRecord, part_ids: Sequence[str] = ()) -> None:
        self._conn.execute(
            "INSERT INTO dlrkit_messages (key, record, complete, created, updated) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO UPDATE SET "
            "record = excluded.record, complete = excluded.complete, updated = excluded.updated",
            (record.key, record.to_json(), int(record.is_complete), record.created, record.updated),
        )
        if part_ids:
            with self._conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO dlrkit_parts (message_id, key) VALUES (%s, %s)",
                    [(mid, record.key) for mid in part_ids],
                )

    def add_orphan(
        self, receipt: DeliveryReceipt, now: float, limit: int, expired_before: float
    ) -> None:
        conn = self._conn
        conn.execute("DELETE FROM dlrkit_orphans WHERE received < %s", (expired_before,))
        conn.execute(
            "INSERT INTO dlrkit_orphans (message_id, receipt, received) VALUES (%s, %s, %s)",
            (receipt.message_id, orphan_json(receipt), now),
        )
        (total,) = conn.execute("SELECT count(*) FROM dlrkit_orphans").fetchone()
        if total > limit:
            conn.execute(
                "DELETE FROM dlrkit_orphans WHERE id IN "
                "(SELECT id FROM dlrkit_orphans ORDER BY id LIMIT %s)",
                (total - limit,),
            )

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        rows = self._conn.execute(
            "DELETE FROM dlrkit_orphans WHERE message_id = ANY(%s) RETURNING id, receipt, received",
            (list(message_ids),),
        ).fetchall()
        rows.sort()
        return [parse(json.loads(text)) for _, text, received in rows if received >= expired_before]
