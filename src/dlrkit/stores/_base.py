"""The protocol every store follows, and the one lock order of every store.

**Lock order.** A transaction that locks more than one thing takes its locks
in this order, and only in this order, so that no two transactions ever wait
for each other in a cycle (a deadlock):

1. **parts**, by :meth:`StoreTransaction.lock` (PostgreSQL: an advisory lock
   per part id, taken in the order of the ids' 64-bit hashes, which are the
   locks' names);
2. **message rows**, by :meth:`StoreTransaction.load`,
   :meth:`~StoreTransaction.load_for_part` or
   :meth:`~StoreTransaction.load_for_parts` (PostgreSQL:
   ``SELECT ... ORDER BY key FOR UPDATE``, so in key order);
3. **orphan rows and the eviction counter**, last: whoever holds them waits
   for nothing more (PostgreSQL deletes orphans with ``SKIP LOCKED``, so
   trimming never waits for a row at all).

A transaction may skip a level but never goes back up. ``Tracker.add``,
``add_many`` and ``expect`` lock parts, then rows; ``expire_stale`` reads
which parts a message has without a lock, then locks them, then the rows;
``prune`` locks message rows only, in key order, and deletes each message
with its parts in the same statement; ``get`` and ``pending`` lock nothing.
SQLite needs none of this: ``BEGIN IMMEDIATE`` takes the one write lock of
the database, and readers take no lock at all in WAL mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from .._receipt import DeliveryReceipt
from ._record import MessageRecord

__all__ = ["ReplayStore", "Store", "StoreTransaction", "TransientError"]


class TransientError(Exception):
    """A transaction failed for a reason that may pass; running it again may succeed.

    Raised by a store when the connection to its server was lost (the store
    reconnects on its next transaction) or the server aborted the transaction
    (a deadlock, a serialization failure). If the connection was lost while
    committing, the transaction may have taken effect: run it again only when
    that is harmless. Every operation of a :class:`~dlrkit.Tracker` is, and
    the tracker runs it once more. The cause is the exception's
    ``__cause__``.
    """


class StoreTransaction(Protocol):
    """The operations of one transaction; all or none of them take effect.

    A record a transaction loads is the transaction's own copy: changing it
    changes nothing stored until :meth:`save` (or :meth:`save_many`).
    """

    def lock(self, message_ids: Sequence[str]) -> None:
        """Serialise with other transactions that lock any of these part ids."""

    def key_for(self, message_id: str) -> str | None:
        """The key of the message a part belongs to, or None."""

    def load(self, key: str) -> MessageRecord | None:
        """The record of a message, locked until the transaction ends."""

    def load_for_part(self, message_id: str) -> MessageRecord | None:
        """Lock one part, then load the record of its message (None if no message has it).

        The same as :meth:`lock`, :meth:`key_for` and :meth:`load` in turn, in
        one step: this is what every receipt does, so a store can do it in one
        query.
        """

    def load_for_parts(self, message_ids: Sequence[str]) -> dict[str, MessageRecord]:
        """:meth:`load_for_part` for many parts at once: part id -> its message's record.

        Parts of no known message are left out; the parts of one message map
        to one record object. Locks every part, then every message's row (see
        the lock order).
        """

    def save(self, record: MessageRecord, part_ids: Sequence[str] = ()) -> None:
        """Write a record; *part_ids* (for a new message) are indexed to its key."""

    def save_many(self, records: Sequence[MessageRecord]) -> None:
        """Write records of messages that exist (loaded in this transaction)."""

    def add_orphans(
        self, receipts: Sequence[DeliveryReceipt], now: float, limit: int, expired_before: float
    ) -> None:
        """Keep receipts of unknown parts; evict the old ones (see ``Tracker``'s rule)."""

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        """Remove and return the orphans of these parts that have not expired."""


class Store(Protocol):
    """A tracker's storage: transactions, reads, plus maintenance."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """A transaction: committed when the block ends, rolled back on an exception.

        May raise :class:`TransientError` (on entering, in the block, or on
        committing).
        """

    def prefetch(self, receipts: Sequence[DeliveryReceipt], now: float) -> None:
        """A hint: these receipts are about to be applied, at *now*, in the next transaction.

        A store may do work ahead, outside any transaction (read and parse
        their parts' records, encode the receipts, even apply them to the
        records as read), to shorten the transaction that follows and the
        time it holds its locks; or do nothing. Nothing done here may be
        relied on unless the transaction finds it still true.
        """

    def read(self, key: str) -> MessageRecord | None:
        """The record of a message as last committed, taking no lock that writers wait for."""

    def pending(self, created_before: float) -> list[str]:
        """Keys of messages created before a time (unix seconds) that are not complete."""

    def prune(self, updated_before: float) -> int:
        """Delete messages not updated since a time, and older orphans; returns a count."""

    def evicted_orphans(self) -> int:
        """How many orphans were evicted, for the bound, since the store was created."""

    def close(self) -> None:
        """Release the store's resources."""


class ReplayStore(Protocol):
    """Where a shared :class:`~dlrkit.NonceCache` keeps its entries.

    :class:`~dlrkit.SQLiteStore` and :class:`~dlrkit.stores.PostgresStore`
    are replay stores; another (Redis, DynamoDB) needs these three methods.
    Times are seconds since the epoch.
    """

    def record_once(self, key: str, expires: float, now: float) -> bool:
        """Record *key* until *expires*, atomically; False if it is there and
        ``expires >= now`` (a replay). Raise on any doubt: the request is then
        refused with 503, never accepted unrecorded."""

    def forget(self, key: str) -> None:
        """Delete *key*, so that the provider's retry is accepted."""

    def replay_keys(self) -> int:
        """How many keys are held (expired ones not deleted yet may count)."""
