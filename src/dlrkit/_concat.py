"""Concatenated messages: the parts' receipts aggregated into one state.

How one part's receipts merge is the store record's rule (see
``dlrkit.stores.MessageRecord``). **The whole message's status** is the
first status in ``_WHOLE_PRECEDENCE`` that any part has (a part with no
receipt yet counts as ``accepted``): so it is failed as soon as one part
finally fails, and delivered only when every part is delivered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property, partial
from types import MappingProxyType
from typing import Any, Final, TypeVar

import attrs

from ._classify import Classifiable
from ._codecs import exact_sum
from ._receipt import DeliveryReceipt
from ._send import SendResponse
from ._status import DlrStatus
from .stores import MemoryStore, MessageRecord, Store, StoreTransaction, TransientError
from .stores._record import is_complete

__all__ = ["MessageState", "Tracker"]

_WHOLE_PRECEDENCE: Final = (
    DlrStatus.REJECTED,
    DlrStatus.FAILED,
    DlrStatus.EXPIRED,
    DlrStatus.UNKNOWN,
    DlrStatus.BUFFERED,
    DlrStatus.ACCEPTED,
    DlrStatus.DELIVERED,
)
_NOTHING_EXPIRED: Final[frozenset[str]] = frozenset()
_V = TypeVar("_V")


def _read_only(data: Mapping[str, _V]) -> Mapping[str, _V]:
    return data if type(data) is MappingProxyType else MappingProxyType(dict(data))


@attrs.frozen(slots=False, repr=False)
class MessageState(Classifiable):
    """The state of one whole (possibly concatenated) message.

    A read-only snapshot taken when a receipt was applied. ``parts`` maps each
    part's message id, in sending order, to the receipt that decides it, or
    None while none has arrived (or when the part was expired for silence:
    see ``expired_parts``); ``first_at``/``last_at`` are the earliest and
    latest ``message-timestamp`` of any receipt applied, and ``sent_prices``
    each part's price from the send response. The derived attributes
    (``status``, ``price``, ...) are computed when first read.
    """

    key: str
    parts: Mapping[str, DeliveryReceipt | None] = attrs.field(converter=_read_only)
    expired_parts: frozenset[str] = attrs.field(converter=frozenset)
    first_at: datetime | None
    last_at: datetime | None
    sent_prices: Mapping[str, Decimal | None] = attrs.field(converter=_read_only)

    @classmethod
    def of(cls, record: MessageRecord) -> MessageState:
        """A snapshot of a stored record."""
        return _snapshot(record.copy())

    def __reduce__(self) -> tuple[Any, ...]:
        # Its read-only mappings do not pickle: it is rebuilt from plain ones.
        return (
            MessageState,
            (
                self.key,
                dict(self.parts),
                self.expired_parts,
                self.first_at,
                self.last_at,
                dict(self.sent_prices),
            ),
        )

    def __repr__(self) -> str:
        return (
            f"MessageState(key={self.key!r}, parts={dict(self.parts)!r},"
            f" expired_parts={self.expired_parts!r}, first_at={self.first_at!r},"
            f" last_at={self.last_at!r})"
        )

    @cached_property
    def _decided(self) -> tuple[DlrStatus, int | None]:
        statuses: dict[DlrStatus, int | None] = {}
        expired = self.expired_parts
        for mid, receipt in self.parts.items():
            if mid in expired:
                statuses.setdefault(DlrStatus.EXPIRED, None)
            elif receipt is None:
                statuses.setdefault(DlrStatus.ACCEPTED, None)
            elif statuses.get(receipt.status) is None:
                statuses[receipt.status] = receipt.err_code
        status = next(s for s in _WHOLE_PRECEDENCE if s in statuses)
        return status, statuses[status]

    @property
    def status(self) -> DlrStatus:
        """The whole message's status (see the module's rules)."""
        return self._decided[0]

    @property
    def err_code(self) -> int | None:
        """The err-code of the part that decided ``status`` (None when none did)."""
        return self._decided[1]

    @property
    def is_complete(self) -> bool:
        """True when every part has a final receipt (or was expired for silence)."""
        return is_complete(self.parts, self.expired_parts)

    @property
    def is_final(self) -> bool:
        """True when the whole message's status will not change any more."""
        return self.status.is_final

    @property
    def is_delivered(self) -> bool:
        return self.status is DlrStatus.DELIVERED

    @cached_property
    def price(self) -> Decimal | None:
        """The sum of the parts' prices (a part's receipt, else its send response)."""
        known = [
            r.price if r is not None and r.price is not None else self.sent_prices.get(mid)
            for mid, r in self.parts.items()
        ]
        prices = [p for p in known if p is not None]
        return exact_sum(prices) if prices else None


def _snapshot(record: MessageRecord) -> MessageState:
    """``MessageState(...)`` of a record that nothing changes any more.

    The tracker's records are a transaction's own copies (the Store protocol
    says so), and the tracker is done with each when it takes the snapshot:
    so the snapshot adopts its ``parts`` rather than copy them, and is built
    without the per-field cost of a frozen class's ``__init__`` (a test holds
    the two alike). ``prices`` is set once, by ``Tracker.expect``.
    """
    state = _new_state(MessageState)
    state.__dict__.update(
        {
            "key": record.key,
            "parts": _proxy(record.parts),
            "expired_parts": frozenset(record.expired) if record.expired else _NOTHING_EXPIRED,
            "first_at": record.first_at,
            "last_at": record.last_at,
            "sent_prices": _proxy(record.prices),
        }
    )
    return state


_new_state: Final = object.__new__
_proxy: Final = MappingProxyType


def _now(clock: datetime | None) -> float:
    return clock.timestamp() if clock is not None else time.time()


_T = TypeVar("_T")
_ATTEMPTS: Final = (False, True)  # is this the last attempt?
_EXPIRE_BATCH: Final = 100  # messages expired in one transaction


class Tracker:
    """Aggregates the receipts of each message's parts into a :class:`MessageState`.

    Tell it about each message you send (:meth:`expect`, with the send
    response), then give it every receipt (:meth:`add`, or :meth:`add_many`
    for a batch). Receipts carry no field that links parts: only the send
    response does.

    *store* keeps the state (a :class:`~dlrkit.MemoryStore` by default; a
    :class:`~dlrkit.SQLiteStore` for several processes on one machine, or
    ``dlrkit.stores.PostgresStore`` for several machines). Every change runs
    in one store transaction, so when :meth:`add` returns, the receipt is
    stored. A transaction that fails with
    :class:`~dlrkit.stores.TransientError` (a lost connection, a deadlock)
    is run once more: every operation here is idempotent.

    Receipts that arrive before :meth:`expect` knows their message (the send
    response is not stored yet) are kept as *orphans* and applied when
    :meth:`expect` registers their message. **Eviction rule:** the store
    keeps an orphan for at most *orphan_ttl*, and evicts it, oldest first,
    once *max_orphans* more orphans have arrived after it (one bound for the
    whole store, however many processes share it). :attr:`evicted_orphans`
    counts the orphans evicted for the bound. So a flood of receipts for
    unknown messages (forged ones, or another system's) can push out a
    genuine early receipt: verify signatures before :meth:`add`, and size
    *max_orphans* above the unknown receipts you can get in the time between
    a send and its :meth:`expect`.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        max_orphans: int = 10_000,
        orphan_ttl: timedelta = timedelta(hours=1),
    ) -> None:
        self.store: Store = MemoryStore() if store is None else store
        self.max_orphans = max_orphans
        self.orphan_ttl = orphan_ttl

    def _retrying(self, call: Callable[[], _T]) -> _T:
        """*call*, made once more after a :class:`TransientError`."""
        for last in _ATTEMPTS:
            try:
                return call()
            except TransientError:
                if last:
                    raise
        raise AssertionError("unreachable")

    def _run(self, body: Callable[[StoreTransaction], _T]) -> _T:
        """*body* in one transaction, run once more after a :class:`TransientError`."""

        def transact() -> _T:
            with self.store.transaction() as tx:
                return body(tx)

        return self._retrying(transact)

    def expect(
        self, send_response: SendResponse, key: str | None = None, *, now: datetime | None = None
    ) -> str:
        """Register a sent message's parts; returns its key (default: the first part's id).

        Idempotent: registering the same parts under the same key again does
        nothing. Orphaned receipts of these parts are applied now.

        Raises:
            ValueError: no part was accepted for sending, or the key or a part
                already belongs to a different message.
        """
        part_ids = list(send_response.message_ids)
        if not part_ids:
            raise ValueError("the send response has no part accepted for sending")
        key = part_ids[0] if key is None else key
        moment = _now(now)
        prices = {
            p.message_id: p.message_price
            for p in send_response.messages
            if p.is_sent and p.message_id
        }

        def register(tx: StoreTransaction) -> str:
            tx.lock(part_ids)
            existing = tx.load(key)
            if existing is not None:
                if list(existing.parts) != part_ids:
                    raise ValueError(f"key {key!r} already tracks other parts")
                return key
            for mid in part_ids:
                owner = tx.key_for(mid)
                if owner is not None and owner != key:
                    raise ValueError(f"part {mid!r} already belongs to message {owner!r}")
            record = MessageRecord(
                key=key,
                parts=dict.fromkeys(part_ids),
                prices=prices,
                created=moment,
                updated=moment,
            )
            for receipt in tx.take_orphans(part_ids, moment - self.orphan_ttl.total_seconds()):
                record.apply(receipt, moment)
            tx.save(record, part_ids)
            return key

        return self._run(register)

    def add(self, receipt: DeliveryReceipt, *, now: datetime | None = None) -> MessageState | None:
        """Apply one receipt; the state of its whole message, or None.

        None means no :meth:`expect` has registered this part yet. The receipt
        is kept as an orphan and applied if its message is registered within
        ``orphan_ttl`` (see the eviction rule above).
        """
        moment = time.time() if now is None else now.timestamp()  # _now(), one call less
        store = self.store
        if type(store) is MemoryStore:  # its transaction in one call, when the part is known
            applied = store._apply_to_part(receipt, moment)
            if applied is not None:
                return _snapshot(applied)
        mid = receipt.message_id
        # The loop of _run() inline: this is the tracker's hot path.
        for last in _ATTEMPTS:
            try:
                with self.store.transaction() as tx:
                    record = tx.load_for_part(mid)
                    if record is None:
                        tx.add_orphans(
                            (receipt,),
                            moment,
                            self.max_orphans,
                            moment - self.orphan_ttl.total_seconds(),
                        )
                        return None
                    if record.apply(receipt, moment):
                        tx.save(record)
                return _snapshot(record)  # once committed: the locks are not held for it
            except TransientError:
                if last:
                    raise
        raise AssertionError("unreachable")

    def add_many(
        self, receipts: Iterable[DeliveryReceipt], *, now: datetime | None = None
    ) -> list[MessageState]:
        """Apply a batch of receipts in one transaction; the states of the messages touched.

        Each receipt is applied exactly as :meth:`add` would apply it, in
        order (receipts of unknown parts become orphans), and all of them are
        stored, or none: acknowledge a receipt only after the call that
        contains it has returned. The result has one state per message that
        a receipt of the batch belongs to, after the whole batch, in the order
        the messages were first touched. This is the path for volume: the SQL
        stores load and write a whole batch in a few statements.
        """
        batch = list(receipts)
        if not batch:
            return []
        moment = _now(now)
        part_ids = [r.message_id for r in batch]
        # Work ahead, outside the transaction: the SQL stores parse the
        # records, and apply and encode the receipts, here, so that the
        # transaction (and its locks) is short.
        self._retrying(partial(self.store.prefetch, batch, moment))

        def apply(tx: StoreTransaction) -> Iterable[MessageRecord]:
            records = tx.load_for_parts(part_ids)
            touched: dict[str, MessageRecord] = {}
            changed: dict[str, MessageRecord] = {}
            orphans = []
            for receipt in batch:
                record = records.get(receipt.message_id)
                if record is None:
                    orphans.append(receipt)
                    continue
                touched.setdefault(record.key, record)
                if record.apply(receipt, moment):
                    changed[record.key] = record
            if changed:
                tx.save_many(list(changed.values()))
            if orphans:
                expired_before = moment - self.orphan_ttl.total_seconds()
                tx.add_orphans(orphans, moment, self.max_orphans, expired_before)
            return touched.values()

        # The snapshots once the transaction is over: the records are the
        # transaction's own copies, and its locks are not held for them.
        return [_snapshot(record) for record in self._run(apply)]

    def get(self, key: str) -> MessageState | None:
        """The state of the message registered under *key*, or None.

        A read: it takes no lock that writers wait for.
        """
        record = self._retrying(lambda: self.store.read(key))
        return _snapshot(record) if record is not None else None

    @property
    def evicted_orphans(self) -> int:
        """How many orphans the store evicted for the bound (see the eviction rule)."""
        return self._retrying(self.store.evicted_orphans)

    def expire_stale(
        self, older_than: timedelta = timedelta(hours=72), *, now: datetime | None = None
    ) -> list[MessageState]:
        """Mark parts with no final receipt as expired, in messages sent *older_than* ago.

        The provider itself turns a part with no final receipt within 72 hours
        into ``expired`` and ignores later receipts; this brings the tracker in
        line, so messages do not stay pending forever. Returns the messages
        that changed. Works in batches of messages, one transaction each,
        which lock the messages' parts before their rows, as ``add`` does.
        """
        moment = _now(now)
        created_before = moment - older_than.total_seconds()
        keys = self._retrying(lambda: self.store.pending(created_before))
        changed: list[MessageState] = []
        for start in range(0, len(keys), _EXPIRE_BATCH):
            # Which parts each message has, read without a lock: parts never
            # change once registered, so the transaction can lock them first.
            part_ids: list[str] = []
            for key in keys[start : start + _EXPIRE_BATCH]:
                record = self._retrying(partial(self.store.read, key))
                if record is not None:
                    part_ids += record.parts

            def expire(tx: StoreTransaction, part_ids: list[str] = part_ids) -> list[MessageState]:
                records = {r.key: r for r in tx.load_for_parts(part_ids).values()}
                stale_records = []
                for record in records.values():
                    stale = [
                        mid
                        for mid, r in record.parts.items()
                        if mid not in record.expired and (r is None or not r.status.is_final)
                    ]
                    if not stale or record.created >= created_before:
                        continue
                    for mid in stale:
                        record.expired[mid] = moment
                    record.updated = moment
                    stale_records.append(record)
                if stale_records:
                    tx.save_many(stale_records)
                return [_snapshot(record) for record in stale_records]

            changed += self._run(expire)
        return changed

    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Forget messages not updated for *older_than*, and expired orphans; returns a count."""
        updated_before = _now(now) - older_than.total_seconds()
        return int(self._retrying(lambda: self.store.prune(updated_before)))
