"""MemoryStore: a tracker's state in this process's memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from itertools import count

from .._receipt import DeliveryReceipt
from ._record import MessageRecord

__all__ = ["MemoryStore"]


class _MemoryTransaction:
    # Stateless, so one per store serves every (nested or concurrent)
    # transaction; a class, not @contextmanager: this is the tracker's hot path.
    __slots__ = ("_acquire", "_release", "_store")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._acquire = store._lock.acquire
        self._release = store._lock.release

    def __enter__(self) -> MemoryStore:
        self._acquire()
        return self._store

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self._release()


class MemoryStore:
    """Keeps everything in memory, for one process; thread-safe.

    Nothing survives the process: use :class:`~dlrkit.SQLiteStore` where
    receipts must not be lost on a restart.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, MessageRecord] = {}
        self._index: dict[str, str] = {}
        # Orphans in arrival order: seq -> (message id, received, receipt).
        self._orphans: OrderedDict[int, tuple[str, float, DeliveryReceipt]] = OrderedDict()
        self._orphans_of: dict[str, list[int]] = {}
        self._seq = count()
        self._transaction = _MemoryTransaction(self)

    def transaction(self) -> _MemoryTransaction:
        return self._transaction

    # -- StoreTransaction ------------------------------------------------------------

    def lock(self, message_ids: Sequence[str]) -> None:
        pass  # every transaction holds the store's lock

    def key_for(self, message_id: str) -> str | None:
        return self._index.get(message_id)

    def load(self, key: str) -> MessageRecord | None:
        return self._records.get(key)

    def load_for_part(self, message_id: str) -> MessageRecord | None:
        key = self._index.get(message_id)
        return None if key is None else self._records.get(key)

    def save(self, record: MessageRecord, part_ids: Sequence[str] = ()) -> None:
        self._records[record.key] = record
        for mid in part_ids:
            self._index[mid] = record.key

    def add_orphan(
        self, receipt: DeliveryReceipt, now: float, limit: int, expired_before: float
    ) -> None:
        self._drop_orphans(expired_before)
        seq = next(self._seq)
        self._orphans[seq] = (receipt.message_id, now, receipt)
        self._orphans_of.setdefault(receipt.message_id, []).append(seq)
        while len(self._orphans) > limit:
            self._pop_oldest_orphan()

    def take_orphans(
        self, message_ids: Sequence[str], expired_before: float
    ) -> list[DeliveryReceipt]:
        taken = []
        for mid in message_ids:
            for seq in self._orphans_of.pop(mid, ()):
                _, received, receipt = self._orphans.pop(seq)
                if received >= expired_before:
                    taken.append(receipt)
        return taken

    def _pop_oldest_orphan(self) -> None:
        seq, (mid, _, _) = self._orphans.popitem(last=False)
        seqs = self._orphans_of[mid]
        seqs.remove(seq)
        if not seqs:
            del self._orphans_of[mid]

    def _drop_orphans(self, before: float) -> int:
        dropped = 0
        while self._orphans:
            _, received, _ = next(iter(self._orphans.values()))
            if received >= before:
                break
            self._pop_oldest_orphan()
            dropped += 1
        return dropped

    # -- Store ---------------------------------------------------------------------------

    def pending(self, created_before: float) -> list[str]:
        with self._lock:
            return [
                key
                for key, record in self._records.items()
                if record.created < created_before and not record.is_complete
            ]

    def prune(self, updated_before: float) -> int:
        with self._lock:
            old = [k for k, r in self._records.items() if r.updated < updated_before]
            for key in old:
                for mid in self._records.pop(key).parts:
                    self._index.pop(mid, None)
            return len(old) + self._drop_orphans(updated_before)

    def close(self) -> None:
        pass
