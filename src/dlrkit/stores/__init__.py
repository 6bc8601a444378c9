"""Where a :class:`~dlrkit.Tracker` keeps its state.

- :class:`MemoryStore`: one process; the default.
- :class:`SQLiteStore`: several processes on one machine; the standard
  library's sqlite3 in WAL mode, one transaction per change.
- :class:`PostgresStore` (extra ``dlrkit[postgres]``): several machines.

Any object with the methods of :class:`Store` works; it keeps
:class:`MessageRecord` objects. The SQL stores are also a
:class:`ReplayStore`, where a shared :class:`~dlrkit.NonceCache` keeps the
signed requests it has accepted. Every store takes its locks in one order,
written down in ``dlrkit.stores._base``: parts, then messages' rows, then
orphans.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import ReplayStore, Store, StoreTransaction, TransientError
from ._memory import MemoryStore
from ._record import MessageRecord
from ._sqlite import SQLiteStore

if TYPE_CHECKING:
    from .postgres import PostgresStore

__all__ = [
    "MemoryStore",
    "MessageRecord",
    "PostgresStore",
    "ReplayStore",
    "SQLiteStore",
    "Store",
    "StoreTransaction",
    "TransientError",
]


def __getattr__(name: str) -> Any:
    # PostgresStore needs psycopg, an optional extra: import it only when asked for.
    if name == "PostgresStore":
        from .postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
