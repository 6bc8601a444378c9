"""PostgresStore: a tracker's state in PostgreSQL, for apps on several machines.

Needs the ``postgres`` extra (psycopg 3): ``pip install "dlrkit[postgres]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Final

from .._receipt import DeliveryReceipt
from ._sql import SQLStore, SQLTransaction, orphan_receipt

__all__ = ["PostgresStore"]

# The advisory lock that serialises schema changes (an arbitrary constant).
_SCHEMA_LOCK = 7171717171


class _PostgresTransaction(SQLTransaction):
    placeholder = "%s"
    # Lock order, level 2 (see _base): the message's row only. Receipts of
    # different parts of one message wait for each other here.
    lock_clause = " FOR UPDATE OF m"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def lock(self, message_ids: Sequence[str]) -> None:
        # Lock order, level 1: one transaction-scoped advisory lock per part,
        # named by the id's 64-bit hash and taken in the order of the hashes,
        # so that two transactions never wait on each other in a cycle (even
        # when two ids share a hash). One statement for any number of parts:
        # the subquery sorts, and its rows are locked in that order.
        if len(message_ids) == 1:
            self._conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (message_ids[0],)
            )
        elif message_ids:
            self._conn.execute(
                "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT"
                " hashtextextended(m, 0) AS h FROM unnest(%s::text[]) AS m ORDER BY h) AS locks",
                (list(message_ids),),
            )

    @staticmethod
    def in_list(column: str, values: Sequence[str]) -> tuple[str, Any]:
        return f"{column} = ANY(?)", list(values)

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        rows = self._conn.execute(
            "DELETE FROM dlrkit_orphans WHERE message_id = ANY(%s) RETURNING id, receipt, received",
            (list(message_ids),),
        ).fetchall()
        rows.sort()
        return [orphan_receipt(text) for _, text, received in rows if received >= expired_before]

    def prune_messages(self, updated_before: float, limit: int) -> int:
        # One statement, atomic with respect to add: the message rows are
        # locked in key order (lock order, level 2) and the condition is
        # checked again on the row as it is once locked, so a message that a
        # receipt updated meanwhile stays, with its parts.
        return int(
            self._conn.execute(
                "WITH doomed AS (SELECT key FROM dlrkit_messages WHERE updated < %s"
                "  ORDER BY key LIMIT %s FOR UPDATE),"
                " parts AS (DELETE FROM dlrkit_parts WHERE key IN (SELECT key FROM doomed))"
                " DELETE FROM dlrkit_messages WHERE key IN (SELECT key FROM doomed)",
                (updated_before, limit),
            ).rowcount
        )


# A server that stops answering must not hold a call for ever (see PostgresStore).
_TCP_DEFAULTS: Final = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}


class PostgresStore(SQLStore):
    """Keeps a tracker's state in PostgreSQL.

    Same guarantees as :class:`~dlrkit.SQLiteStore`, across machines: each
    change is one transaction, and a receipt is acknowledged only after its
    transaction committed. Every transaction takes its locks in one order
    (parts, then messages' rows, see ``dlrkit.stores``), so none deadlocks
    with another; reads take no lock.

    When the server drops the connection, the next transaction reconnects;
    a transaction cut off half-way raises
    :class:`~dlrkit.stores.TransientError`, which the tracker answers by
    running it once more (each of its operations is idempotent).

    Opening a store reads the catalog and creates only what is missing (see
    :meth:`create_schema`); with ``create_schema=False`` a missing table is
    an error instead.

    *dsn* is a libpq connection string or URL. Over TCP, a server that stops
    answering (a frozen machine, a network cut) is noticed by TCP keepalives
    and ``tcp_user_timeout``: unless the DSN sets them, the store uses
    ``keepalives_idle=30``, ``keepalives_interval=10``,
    ``keepalives_count=3`` and ``tcp_user_timeout=60000`` (ms), so such a
    call fails after about a minute instead of waiting for ever. One store
    object may be shared by threads (it holds one connection); each process
    opens its own.
    """

    _transaction_class = _PostgresTransaction
    _unflushed_sql = "SET LOCAL synchronous_commit = off"
    _ddl: ClassVar[dict[str, str]] = {"serial": "BIGSERIAL PRIMARY KEY", "bigint": "BIGINT"}
    _catalog_sql = (
        "SELECT c.relname FROM pg_catalog.pg_class c WHERE pg_catalog.pg_table_is_visible(c.oid)"
        " AND c.relname IN (SELECT json_array_elements_text(?::json))"
    )

    def __init__(self, dsn: str, *, connect_timeout: int = 10, create_schema: bool = True) -> None:
        try:
            import psycopg
        except ImportError as error:  # pragma: no cover - depends on the extra
            raise ImportError(
                'PostgresStore needs psycopg 3: pip install "dlrkit[postgres]"'
            ) from error
        super().__init__()
        self.dsn = dsn
        self.connect_timeout = connect_timeout
        self._psycopg = psycopg
        self._register()
        self._open_schema(create_schema)

    def _connect(self) -> Any:
        given = self._psycopg.conninfo.conninfo_to_dict(self.dsn)
        defaults: dict[str, Any] = {k: v for k, v in _TCP_DEFAULTS.items() if k not in given}
        return self._psycopg.connect(
            self.dsn, autocommit=True, connect_timeout=self.connect_timeout, **defaults
        )

    def _lost(self, conn: Any) -> bool:
        return bool(conn.broken or conn.closed)

    def _unusable(self, conn: Any, failure: Exception) -> bool:
        # A connection killed under executemany (pipeline mode) is left
        # neither closed nor broken, only stuck: even ROLLBACK fails on it. A
        # connection whose ROLLBACK or COMMIT fails at the connection level
        # is dropped, and the next transaction gets a new one.
        return self._lost(conn) or isinstance(failure, self._psycopg.OperationalError)

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _is_transient(self, conn: Any, error: Exception) -> bool:
        # A deadlock or a serialization failure: the server rolled it back.
        return self._lost(conn) or isinstance(error, self._psycopg.errors.TransactionRollback)

    def _lock_schema(self, tx: SQLTransaction) -> None:
        tx._execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))

    def close(self) -> None:
        with self._lock:
            self._drop()
