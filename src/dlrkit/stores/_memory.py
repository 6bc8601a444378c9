"""MemoryStore: a tracker's state in this process's memory."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import count
from typing import Any

from .._receipt import DeliveryReceipt
from ._record import MessageRecord

__all__ = ["MemoryStore"]

# An orphan: (message id, received, receipt), by its sequence number.
_Orphan = tuple[str, float, DeliveryReceipt]


class _MemoryTransaction:
    # One per store serves every (nested) transaction: the undo log and the
    # marks live on the store. A class, not @contextmanager: this is the
    # tracker's hot path.
    __slots__ = ("_acquire", "_marks", "_release", "_store", "_undo")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._acquire = store._lock.acquire
        self._release = store._lock.release
        self._undo = store._undo
        self._marks = store._marks

    def __enter__(self) -> MemoryStore:
        self._acquire()
        self._marks.append(len(self._undo))
        return self._store

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        mark = self._marks.pop()
        if exc_type is not None:
            try:
                self._store._roll_back(mark)  # a nested block: back to its start only
            finally:
                self._release()
            return
        if not self._marks:
            self._undo.clear()  # the outermost block committed
        self._release()


class MemoryStore:
    """Keeps everything in memory, for one process; thread-safe.

    A transaction is all or none, as in the SQL stores: records are loaded as
    copies, and every change is logged so that an exception undoes it. A
    nested transaction rolls back to its own start.

    Nothing survives the process: use :class:`~dlrkit.SQLiteStore` where
    receipts must not be lost on a restart.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, MessageRecord] = {}
        self._index: dict[str, str] = {}
        # Orphans in arrival order (dicts keep insertion order).
        self._orphans: dict[int, _Orphan] = {}
        self._orphans_of: dict[str, list[int]] = {}
        self._seq = count()
        self._evicted = 0
        # The undo log: (table, key, previous value or _ABSENT), newest last.
        self._undo: list[tuple[Any, Any, Any]] = []
        self._marks: list[int] = []
        self._transaction = _MemoryTransaction(self)

    def transaction(self) -> _MemoryTransaction:
        return self._transaction

    def _roll_back(self, mark: int) -> None:
        undo = self._undo
        orphans_changed = False
        while len(undo) > mark:
            table, key, previous = undo.pop()
            if table is _EVICTED:
                self._evicted -= key
                continue
            if table is self._orphans:
                orphans_changed = True
            if previous is _ABSENT:
                table.pop(key, None)
            else:
                table[key] = previous
        if orphans_changed:  # rebuild the arrival order and the per-part lists
            self._orphans = dict(sorted(self._orphans.items()))
            self._orphans_of = {}
            for seq, (mid, _, _) in self._orphans.items():
                self._orphans_of.setdefault(mid, []).append(seq)

    # -- StoreTransaction ------------------------------------------------------------

    def lock(self, message_ids: Sequence[str]) -> None:
        pass  # every transaction holds the store's lock

    def key_for(self, message_id: str) -> str | None:
        return self._index.get(message_id)

    def load(self, key: str) -> MessageRecord | None:
        record = self._records.get(key)
        return None if record is None else record.copy()

    def load_for_part(self, message_id: str) -> MessageRecord | None:
        key = self._index.get(message_id)
        return None if key is None else self._records[key].copy()

    def load_for_parts(self, message_ids: Sequence[str]) -> dict[str, MessageRecord]:
        loaded: dict[str, MessageRecord] = {}
        found: dict[str, MessageRecord] = {}
        for mid in message_ids:
            key = self._index.get(mid)
            if key is None:
                continue
            record = loaded.get(key)
            if record is None:
                record = loaded[key] = self._records[key].copy()
            found[mid] = record
        return found

    def save(self, record: MessageRecord, part_ids: Sequence[str] = ()) -> None:
        records = self._records
        key = record.key
        self._undo.append((records, key, records.get(key, _ABSENT)))
        records[key] = record
        for mid in part_ids:
            self._undo.append((self._index, mid, self._index.get(mid, _ABSENT)))
            self._index[mid] = key

    def _apply_to_part(self, receipt: DeliveryReceipt, now: float) -> MessageRecord | None:
        """``Tracker.add``'s transaction in one step; None when the part is unknown.

        The record is applied as a copy and stored only whole, so an exception
        leaves the store as it was (all or none, with no undo log to keep);
        inside an open transaction the change joins its undo log. For an
        unknown part the general path runs (it keeps the orphan); a test
        holds the two paths alike.
        """
        with self._lock:
            key = self._index.get(receipt.message_id)
            if key is None:
                return None
            stored = self._records[key]
            record = stored.copy()
            if record.apply(receipt, now):
                if self._marks:
                    self._undo.append((self._records, key, stored))
                self._records[key] = record
            return record

    def save_many(self, records: Sequence[MessageRecord]) -> None:
        for record in records:
            self.save(record)

    def add_orphans(
        self, receipts: Sequence[DeliveryReceipt], now: float, limit: int, expired_before: float
    ) -> None:
        self._drop_orphans(expired_before)
        seq = -1
        for receipt in receipts:
            seq = next(self._seq)
            self._undo.append((self._orphans, seq, _ABSENT))
            self._orphans[seq] = (receipt.message_id, now, receipt)
            self._orphans_of.setdefault(receipt.message_id, []).append(seq)
        # The bound (see Tracker): evicted once `limit` newer orphans arrived.
        evicted = self._drop_orphans(None, seq - limit)
        if evicted:
            self._evicted += evicted
            self._undo.append((_EVICTED, evicted, None))

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        taken = []
        for mid in message_ids:
            for seq in self._orphans_of.pop(mid, ()):
                orphan = self._orphans.pop(seq)
                self._undo.append((self._orphans, seq, orphan))
                if orphan[1] >= expired_before:
                    taken.append(orphan[2])
        return taken

    def _drop_orphans(self, received_before: float | None, seq_to: int = -1) -> int:
        """Drop the oldest orphans: received before a time, or numbered up to *seq_to*."""
        dropped = 0
        orphans = self._orphans
        while orphans:
            seq = next(iter(orphans))
            mid, received, _ = orphan = orphans[seq]
            if seq > seq_to and (received_before is None or received >= received_before):
                break
            del orphans[seq]
            self._undo.append((orphans, seq, orphan))
            seqs = self._orphans_of[mid]
            seqs.remove(seq)
            if not seqs:
                del self._orphans_of[mid]
            dropped += 1
        return dropped

    # -- Store ---------------------------------------------------------------------------

    def prefetch(self, receipts: Sequence[DeliveryReceipt], now: float) -> None:
        pass  # nothing to read ahead

    def read(self, key: str) -> MessageRecord | None:
        with self._lock:
            return self._records.get(key)  # stored records are never changed in place

    def pending(self, created_before: float) -> list[str]:
        with self._lock:
            return [
                key
                for key, record in self._records.items()
                if record.created < created_before and not record.is_complete
            ]

    def prune(self, updated_before: float) -> int:
        with self._transaction:
            old = [k for k, r in self._records.items() if r.updated < updated_before]
            for key in old:
                record = self._records.pop(key)
                self._undo.append((self._records, key, record))
                for mid in record.parts:
                    self._undo.append((self._index, mid, self._index.pop(mid, _ABSENT)))
            return len(old) + self._drop_orphans(updated_before)

    def evicted_orphans(self) -> int:
        with self._lock:
            return self._evicted

    def close(self) -> None:
        pass


_ABSENT: Any = object()
_EVICTED: Any = object()  # an undo entry: the eviction count grew by its "key"
