"""What the SQL stores share: the schema, the transaction's statements, maintenance.

Statements are written once with ``?`` placeholders; each driver's class says
what its own placeholder is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager, closing
from typing import Any, ClassVar, Final

from .._receipt import DeliveryReceipt
from ._record import MessageRecord

__all__ = ["SCHEMA", "SQLStore", "SQLTransaction", "orphan_json"]

# Portable between SQLite and PostgreSQL; {serial} is each one's auto-increment type.
SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS dlrkit_messages ("
    " key TEXT PRIMARY KEY, record TEXT NOT NULL, complete INTEGER NOT NULL,"
    " created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS dlrkit_messages_pending ON dlrkit_messages (complete, created)",
    "CREATE INDEX IF NOT EXISTS dlrkit_messages_updated ON dlrkit_messages (updated)",
    "CREATE TABLE IF NOT EXISTS dlrkit_parts (message_id TEXT PRIMARY KEY, key TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS dlrkit_parts_key ON dlrkit_parts (key)",
    "CREATE TABLE IF NOT EXISTS dlrkit_orphans ("
    " id {serial} PRIMARY KEY, message_id TEXT NOT NULL, receipt TEXT NOT NULL,"
    " received DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS dlrkit_orphans_message ON dlrkit_orphans (message_id)",
)


def orphan_json(receipt: DeliveryReceipt) -> str:
    return json.dumps(receipt.to_wire(), separators=(",", ":"))


class SQLTransaction:
    """The StoreTransaction operations both SQL stores run the same way."""

    placeholder: ClassVar[str] = "?"
    # Appended to the SELECTs of a record, whose dlrkit_messages is "m".
    lock_clause: ClassVar[str] = ""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql.replace("?", self.placeholder), params)

    def key_for(self, message_id: str) -> str | None:
        row = self._execute(
            "SELECT key FROM dlrkit_parts WHERE message_id = ?", (message_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def load(self, key: str) -> MessageRecord | None:
        row = self._execute(
            "SELECT m.record FROM dlrkit_messages m WHERE m.key = ?" + self.lock_clause, (key,)
        ).fetchone()
        return None if row is None else MessageRecord.from_json(row[0])

    def load_for_part(self, message_id: str) -> MessageRecord | None:
        self.lock((message_id,))
        row = self._execute(
            "SELECT m.record FROM dlrkit_parts p JOIN dlrkit_messages m ON m.key = p.key"
            " WHERE p.message_id = ?" + self.lock_clause,
            (message_id,),
        ).fetchone()
        return None if row is None else MessageRecord.from_json(row[0])

    def lock(self, message_ids: Sequence[str]) -> None:
        raise NotImplementedError  # each driver locks its own way

    def save(self, record: MessageRecord, part_ids: Sequence[str] = ()) -> None:
        self._execute(
            "INSERT INTO dlrkit_messages (key, record, complete, created, updated) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "record = excluded.record, complete = excluded.complete, updated = excluded.updated",
            (record.key, record.to_json(), int(record.is_complete), record.created, record.updated),
        )
        if part_ids:
            with closing(self._conn.cursor()) as cursor:
                cursor.executemany(
                    "INSERT INTO dlrkit_parts (message_id, key) VALUES (?, ?)".replace(
                        "?", self.placeholder
                    ),
                    [(mid, record.key) for mid in part_ids],
                )

    def add_orphan(
        self, receipt: DeliveryReceipt, now: float, limit: int, expired_before: float
    ) -> None:
        self._execute("DELETE FROM dlrkit_orphans WHERE received < ?", (expired_before,))
        self._execute(
            "INSERT INTO dlrkit_orphans (message_id, receipt, received) VALUES (?, ?, ?)",
            (receipt.message_id, orphan_json(receipt), now),
        )
        (total,) = self._execute("SELECT count(*) FROM dlrkit_orphans").fetchone()
        if total > limit:
            self._execute(
                "DELETE FROM dlrkit_orphans WHERE id IN "
                "(SELECT id FROM dlrkit_orphans ORDER BY id LIMIT ?)",
                (total - limit,),
            )


class SQLStore:
    """The Store maintenance both SQL stores run the same way."""

    _conn: Any
    _transaction_class: ClassVar[type[SQLTransaction]] = SQLTransaction

    def transaction(self) -> AbstractContextManager[SQLTransaction]:
        raise NotImplementedError

    def pending(self, created_before: float) -> list[str]:
        with self.transaction() as tx:
            rows = tx._execute(
                "SELECT key FROM dlrkit_messages WHERE complete = 0 AND created < ?",
                (created_before,),
            ).fetchall()
        return [str(key) for (key,) in rows]

    def prune(self, updated_before: float) -> int:
        with self.transaction() as tx:
            tx._execute(
                "DELETE FROM dlrkit_parts WHERE key IN "
                "(SELECT key FROM dlrkit_messages WHERE updated < ?)",
                (updated_before,),
            )
            messages = tx._execute(
                "DELETE FROM dlrkit_messages WHERE updated < ?", (updated_before,)
            ).rowcount
            orphans = tx._execute(
                "DELETE FROM dlrkit_orphans WHERE received < ?", (updated_before,)
            ).rowcount
        return int(messages) + int(orphans)
