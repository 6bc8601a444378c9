"""What the SQL stores share: the schema and the orphan encoding."""

from __future__ import annotations

import json
from typing import Final

from .._receipt import DeliveryReceipt

__all__ = ["SCHEMA", "orphan_json"]

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
