"""The protocol every store follows."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from .._receipt import DeliveryReceipt
from ._record import MessageRecord

__all__ = ["Store", "StoreTransaction"]


class StoreTransaction(Protocol):
    """The operations of one transaction; all or none of them take effect."""

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

    def save(self, record: MessageRecord, part_ids: Sequence[str] = ()) -> None:
        """Write a record; *part_ids* (for a new message) are indexed to its key."""

    def add_orphan(
        self, receipt: DeliveryReceipt, now: float, limit: int, expired_before: float
    ) -> None:
        """Keep a receipt of an unknown part; drop orphans over *limit* or too old."""

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        """Remove and return the orphans of these parts that have not expired."""


class Store(Protocol):
    """A tracker's storage: transactions, plus maintenance."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """A transaction: committed when the block ends, rolled back on an exception."""

    def pending(self, created_before: float) -> list[str]:
        """Keys of messages created before a time (unix seconds) that are not complete."""

    def prune(self, updated_before: float) -> int:
        """Delete messages not updated since a time, and older orphans; returns a count."""

    def close(self) -> None:
        """Release the store's resources."""
