"""The SQL stores' tables and indexes, and how a store makes sure they exist.

Creating a table or an index locks the table, even with ``IF NOT EXISTS``
and even when it exists (PostgreSQL's ``CREATE INDEX`` waits for a SHARE
lock, behind every open writer and ahead of every later one). So a store
first reads the catalog, which locks nothing, and runs DDL only for what is
missing: opening a store on a database that has its schema takes no lock.

The schema is a list of features, each a tuple of :class:`SchemaObject`.
A feature that needs tables of its own (a nonce table for a replay guard,
say) adds its tuple to ``FEATURES``; stores create whatever the catalog
lacks. An object is found by name, so a change to an existing table needs a
new name or a migration of its own.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ["FEATURES", "SchemaObject", "all_objects"]


class SchemaObject(NamedTuple):
    """One table or index, by the name the catalog knows it by."""

    name: str
    # Portable between SQLite and PostgreSQL, with placeholders for what is
    # not: {serial} is an auto-increment primary key, {bigint} a 64-bit int.
    statement: str


TRACKER: Final = (
    SchemaObject(
        "dlrkit_messages",
        "CREATE TABLE IF NOT EXISTS dlrkit_messages ("
        " key TEXT PRIMARY KEY, record TEXT NOT NULL, complete INTEGER NOT NULL,"
        " created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL)",
    ),
    SchemaObject(
        "dlrkit_messages_pending",
        "CREATE INDEX IF NOT EXISTS dlrkit_messages_pending ON dlrkit_messages (complete, created)",
    ),
    SchemaObject(
        "dlrkit_messages_updated",
        "CREATE INDEX IF NOT EXISTS dlrkit_messages_updated ON dlrkit_messages (updated)",
    ),
    SchemaObject(
        "dlrkit_parts",
        "CREATE TABLE IF NOT EXISTS dlrkit_parts (message_id TEXT PRIMARY KEY, key TEXT NOT NULL)",
    ),
    SchemaObject(
        "dlrkit_parts_key", "CREATE INDEX IF NOT EXISTS dlrkit_parts_key ON dlrkit_parts (key)"
    ),
    SchemaObject(
        "dlrkit_orphans",
        "CREATE TABLE IF NOT EXISTS dlrkit_orphans ("
        " id {serial}, message_id TEXT NOT NULL, receipt TEXT NOT NULL,"
        " received DOUBLE PRECISION NOT NULL)",
    ),
    SchemaObject(
        "dlrkit_orphans_message",
        "CREATE INDEX IF NOT EXISTS dlrkit_orphans_message ON dlrkit_orphans (message_id)",
    ),
    # Expired orphans are found by this index, not by a scan of the table.
    SchemaObject(
        "dlrkit_orphans_received",
        "CREATE INDEX IF NOT EXISTS dlrkit_orphans_received ON dlrkit_orphans (received)",
    ),
    SchemaObject(
        "dlrkit_counters",
        "CREATE TABLE IF NOT EXISTS dlrkit_counters"
        " (name TEXT PRIMARY KEY, value {bigint} NOT NULL)",
    ),
)

REPLAY_GUARD: Final = (
    # A NonceCache's requests: the replay key (signature and timestamp), when
    # the entry expires, and which attempt recorded it. The primary key makes
    # recording one atomic insert-if-absent; expired entries are found by the
    # index.
    SchemaObject(
        "dlrkit_nonces",
        "CREATE TABLE IF NOT EXISTS dlrkit_nonces"
        " (key TEXT PRIMARY KEY, expires DOUBLE PRECISION NOT NULL, token TEXT NOT NULL)",
    ),
    SchemaObject(
        "dlrkit_nonces_expires",
        "CREATE INDEX IF NOT EXISTS dlrkit_nonces_expires ON dlrkit_nonces (expires)",
    ),
)

FEATURES: Final[list[tuple[SchemaObject, ...]]] = [TRACKER, REPLAY_GUARD]
"""Every feature's objects, in the order they are created (tables before their indexes)."""


def all_objects() -> list[SchemaObject]:
    return [obj for feature in FEATURES for obj in feature]
