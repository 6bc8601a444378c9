"""Concatenated messages: the parts' receipts aggregated into one state.

The rules, as tables:

* **A part keeps the greatest of its receipts** in one total order, so any
  arrival order and any duplicates give the same state (a max is commutative,
  associative and idempotent). Final receipts beat interim ones (an interim
  status never overwrites a final one); among finals the worst outcome wins
  (``_FINAL_BADNESS``); among interims the latest ``message-timestamp`` wins;
  remaining ties are broken by the receipt's wire text.
* **The whole message's status** is the first status in
  ``_WHOLE_PRECEDENCE`` that any part has (a part with no receipt yet counts
  as ``accepted``): so it is failed as soon as one part finally fails, and
  delivered only when every part is delivered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Container, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType
from typing import Any, Final

import attrs

from ._classify import Classifiable
from ._parse import parse
from ._receipt import DeliveryReceipt
from ._send import SendResponse
from ._status import DlrStatus

__all__ = ["MessageRecord", "MessageState", "Tracker"]

UTC: Final = timezone.utc

_FINAL_BADNESS: Final[Mapping[DlrStatus, int]] = {
    DlrStatus.DELIVERED: 0,
    DlrStatus.EXPIRED: 1,
    DlrStatus.FAILED: 2,
    DlrStatus.REJECTED: 3,
}
_INTERIM_RANK: Final[Mapping[DlrStatus, int]] = {
    DlrStatus.ACCEPTED: 0,
    DlrStatus.BUFFERED: 1,
    DlrStatus.UNKNOWN: 2,
}
# A part's receipts compare by (final, badness, message-timestamp, interim
# rank), and the greatest is kept: a final receipt beats an interim one; among
# finals the worst outcome, then the latest; among interims the latest, then
# the furthest along. status -> (final, badness, interim rank):
_ORDER: Final[Mapping[DlrStatus, tuple[int, int, int]]] = {
    **{status: (1, badness, 0) for status, badness in _FINAL_BADNESS.items()},
    **{status: (0, 0, rank) for status, rank in _INTERIM_RANK.items()},
}
_WHOLE_PRECEDENCE: Final = (
    DlrStatus.REJECTED,
    DlrStatus.FAILED,
    DlrStatus.EXPIRED,
    DlrStatus.UNKNOWN,
    DlrStatus.BUFFERED,
    DlrStatus.ACCEPTED,
    DlrStatus.DELIVERED,
)
_NO_TIME: Final = datetime.min.replace(tzinfo=UTC)
_NOTHING_EXPIRED: Final[frozenset[str]] = frozenset()


def _wins(new: DeliveryReceipt, current: DeliveryReceipt) -> bool:
    """True when *new* should replace *current* as a part's receipt."""
    # The order key (see _ORDER), built inline rather than in a helper: on the
    # tracker's hot path a function call costs as much as the key.
    final, badness, rank = _ORDER[new.status]
    a = (final, badness, new.message_timestamp or _NO_TIME, rank)
    final, badness, rank = _ORDER[current.status]
    b = (final, badness, current.message_timestamp or _NO_TIME, rank)
    if a != b:
        return a > b
    if new == current:  # a duplicate: the provider retries receipts
        return False
    # Same status and time, other content: any fixed order keeps the result
    # independent of arrival order.
    return sorted(new.to_wire().items()) > sorted(current.to_wire().items())


def _complete(parts: Mapping[str, DeliveryReceipt | None], expired: Container[str]) -> bool:
    return all(mid in expired or (r is not None and r.status.is_final) for mid, r in parts.items())


@attrs.define
class MessageRecord:
    """What a store keeps for one message (mutable; stores serialise it)."""

    key: str
    parts: dict[str, DeliveryReceipt | None]
    prices: dict[str, Decimal | None]
    created: float
    updated: float
    expired: dict[str, float] = attrs.field(factory=dict)  # part -> when marked expired
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def is_complete(self) -> bool:
        return _complete(self.parts, self.expired)

    def apply(self, receipt: DeliveryReceipt, now: float) -> bool:
        """Merge one receipt of one of this message's parts; True if it changed anything."""
        mid = receipt.message_id
        changed = False
        stamp = receipt.message_timestamp
        if stamp is not None:
            if self.first_at is None or stamp < self.first_at:
                self.first_at, changed = stamp, True
            if self.last_at is None or stamp > self.last_at:
                self.last_at, changed = stamp, True
        if mid in self.expired:
            # A worse final outcome than the expiry we assumed still counts.
            if _FINAL_BADNESS.get(receipt.status, -1) > _FINAL_BADNESS[DlrStatus.EXPIRED]:
                del self.expired[mid]
                self.parts[mid], changed = receipt, True
        else:
            current = self.parts[mid]
            if current is None or _wins(receipt, current):
                self.parts[mid], changed = receipt, True
        if changed:
            self.updated = now
        return changed

    def to_json(self) -> str:
        return json.dumps(
            {
                "key": self.key,
                "parts": {m: (r.to_wire() if r else None) for m, r in self.parts.items()},
                "prices": {m: (str(p) if p is not None else None) for m, p in self.prices.items()},
                "created": self.created,
                "updated": self.updated,
                "expired": self.expired,
                "first_at": self.first_at.isoformat() if self.first_at else None,
                "last_at": self.last_at.isoformat() if self.last_at else None,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> MessageRecord:
        data = json.loads(text)
        return cls(
            key=data["key"],
            parts={m: (parse(w) if w else None) for m, w in data["parts"].items()},
            prices={m: (Decimal(p) if p is not None else None) for m, p in data["prices"].items()},
            created=data["created"],
            updated=data["updated"],
            expired=data["expired"],
            first_at=datetime.fromisoformat(data["first_at"]) if data["first_at"] else None,
            last_at=datetime.fromisoformat(data["last_at"]) if data["last_at"] else None,
        )


@attrs.define(repr=False)
class MessageState(Classifiable):
    """The state of one whole (possibly concatenated) message.

    A read-only snapshot taken when a receipt was applied. ``parts`` maps each
    part's message id to the receipt that decides it, or None while none has
    arrived (or when the part was expired for silence: see
    ``expired_parts``). The derived attributes (``status``, ``price``, ...)
    are computed when first read.
    """

    # Read-only through the properties below rather than an attrs frozen
    # class: a tracker builds one of these per receipt, and a frozen class's
    # __init__ (an object.__setattr__ call per field) costs twice as much.
    # The init's arguments keep the public names (key=, parts=, ...).
    _key: str
    _parts: Mapping[str, DeliveryReceipt | None]
    _expired_parts: frozenset[str]
    _first_at: datetime | None
    _last_at: datetime | None
    _sent_prices: Mapping[str, Decimal | None]

    @classmethod
    def of(cls, record: MessageRecord) -> MessageState:
        """A snapshot of a stored record."""
        return cls(
            record.key,
            dict(record.parts),
            frozenset(record.expired) if record.expired else _NOTHING_EXPIRED,
            record.first_at,
            record.last_at,
            record.prices,
        )

    @property
    def key(self) -> str:
        """The message's key (see :meth:`Tracker.expect`)."""
        return self._key

    @property
    def parts(self) -> Mapping[str, DeliveryReceipt | None]:
        """Each part's message id, in sending order, to the receipt that decides it, or None."""
        return MappingProxyType(self._parts)

    @property
    def expired_parts(self) -> frozenset[str]:
        """The parts expired for silence by :meth:`Tracker.expire_stale`."""
        return self._expired_parts

    @property
    def first_at(self) -> datetime | None:
        """The earliest ``message-timestamp`` of any receipt applied."""
        return self._first_at

    @property
    def last_at(self) -> datetime | None:
        """The latest ``message-timestamp`` of any receipt applied."""
        return self._last_at

    @property
    def sent_prices(self) -> Mapping[str, Decimal | None]:
        """Each part's price from the send response."""
        return MappingProxyType(self._sent_prices)

    def __repr__(self) -> str:
        return (
            f"MessageState(key={self._key!r}, parts={self._parts!r},"
            f" expired_parts={self._expired_parts!r}, first_at={self._first_at!r},"
            f" last_at={self._last_at!r})"
        )

    @cached_property
    def _decided(self) -> tuple[DlrStatus, int | None]:
        statuses: dict[DlrStatus, int | None] = {}
        for mid, receipt in self._parts.items():
            if mid in self._expired_parts:
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
    def dlr_status(self) -> DlrStatus:
        """The whole message's status (``ReceiptLike``, so ``classify`` accepts it)."""
        return self._decided[0]

    @property
    def is_complete(self) -> bool:
        """True when every part has a final receipt (or was expired for silence)."""
        return _complete(self._parts, self._expired_parts)

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
            r.price if r is not None and r.price is not None else self._sent_prices.get(mid)
            for mid, r in self._parts.items()
        ]
        prices = [p for p in known if p is not None]
        return sum(prices, Decimal(0)) if prices else None


def _now(clock: datetime | None) -> float:
    return clock.timestamp() if clock is not None else time.time()


class Tracker:
    """Aggregates the receipts of each message's parts into a :class:`MessageState`.

    Tell it about each message you send (:meth:`expect`, with the send
    response), then give it every receipt (:meth:`add`). Receipts carry no
    field that links parts: only the send response does.

    *store* keeps the state (a :class:`~dlrkit.MemoryStore` by default; a
    :class:`~dlrkit.SQLiteStore` for several processes on one machine, or
    ``dlrkit.stores.PostgresStore`` for several machines). Every change runs
    in one store transaction, so when :meth:`add` returns, the receipt is
    stored.

    Receipts that arrive before :meth:`expect` knows their message (the send
    response is not stored yet) are kept as orphans, at most *max_orphans*
    for *orphan_ttl*, and applied when :meth:`expect` registers their message.
    """

    def __init__(
        self,
        store: Any = None,
        *,
        max_orphans: int = 10_000,
        orphan_ttl: timedelta = timedelta(hours=1),
    ) -> None:
        if store is None:
            from .stores import MemoryStore

            store = MemoryStore()
        self.store = store
        self.max_orphans = max_orphans
        self.orphan_ttl = orphan_ttl

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
        with self.store.transaction() as tx:
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

    def add(self, receipt: DeliveryReceipt, *, now: datetime | None = None) -> MessageState | None:
        """Apply one receipt; the state of its whole message, or None.

        None means no :meth:`expect` has registered this part yet. The receipt
        is kept as an orphan and applied if its message is registered within
        ``orphan_ttl``.
        """
        moment = time.time() if now is None else now.timestamp()  # _now(), one call less
        mid = receipt.message_id
        with self.store.transaction() as tx:
            record = tx.load_for_part(mid)
            if record is None:
                tx.add_orphan(
                    receipt, moment, self.max_orphans, moment - self.orphan_ttl.total_seconds()
                )
                return None
            if record.apply(receipt, moment):
                tx.save(record)
            return MessageState.of(record)

    def get(self, key: str) -> MessageState | None:
        """The state of the message registered under *key*, or None."""
        with self.store.transaction() as tx:
            record = tx.load(key)
        return MessageState.of(record) if record is not None else None

    def expire_stale(
        self, older_than: timedelta = timedelta(hours=72), *, now: datetime | None = None
    ) -> list[MessageState]:
        """Mark parts with no final receipt as expired, in messages sent *older_than* ago.

        The provider itself turns a part with no final receipt within 72 hours
        into ``expired`` and ignores later receipts; this brings the tracker in
        line, so messages do not stay pending forever. Returns the messages
        that changed.
        """
        moment = _now(now)
        changed = []
        for key in self.store.pending(moment - older_than.total_seconds()):
            with self.store.transaction() as tx:
                record = tx.load(key)
                if record is None:
                    continue
                tx.lock(list(record.parts))
                stale = [
                    mid
                    for mid, r in record.parts.items()
                    if mid not in record.expired and (r is None or not r.status.is_final)
                ]
                if not stale:
                    continue
                for mid in stale:
                    record.expired[mid] = moment
                record.updated = moment
                tx.save(record)
            changed.append(MessageState.of(record))
        return changed

    def prune(self, older_than: timedelta, *, now: datetime | None = None) -> int:
        """Forget messages not updated for *older_than*, and expired orphans; returns a count."""
        return int(self.store.prune(_now(now) - older_than.total_seconds()))
