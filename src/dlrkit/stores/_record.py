"""What a store keeps for one message, and how a receipt merges into it.

**A part keeps the greatest of its receipts** in one total order, so any
arrival order and any duplicates give the same state (a max is commutative,
associative and idempotent). Final receipts beat interim ones (an interim
status never overwrites a final one); among finals the worst outcome wins
(``FINAL_BADNESS``); among interims the latest ``message-timestamp`` wins;
remaining ties are broken by the receipt's wire text.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Final

import attrs

from .._codecs import decode_amount, decode_datetime, price_text
from .._parse import parse
from .._receipt import DeliveryReceipt
from .._status import DlrStatus

__all__ = ["FINAL_BADNESS", "MessageRecord", "is_complete"]

UTC: Final = timezone.utc

FINAL_BADNESS: Final[Mapping[DlrStatus, int]] = {
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
    **{status: (1, badness, 0) for status, badness in FINAL_BADNESS.items()},
    **{status: (0, 0, rank) for status, rank in _INTERIM_RANK.items()},
}
_NO_TIME: Final = datetime.min.replace(tzinfo=UTC)


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


def is_complete(parts: Mapping[str, DeliveryReceipt | None], expired: Container[str]) -> bool:
    return all(mid in expired or (r is not None and r.status.is_final) for mid, r in parts.items())


@attrs.define
class MessageRecord:
    """What a store keeps for one message (mutable; stores serialise it).

    ``parts`` maps each part's message id, in sending order, to the receipt
    that decides it (see :meth:`apply`), ``prices`` to its price in the send
    response, and ``expired`` the parts marked expired for silence to when.
    ``created``/``updated`` are unix seconds; ``first_at``/``last_at`` the
    earliest and latest ``message-timestamp`` applied.
    """

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
        """True when every part has a final receipt (or was expired for silence)."""
        return is_complete(self.parts, self.expired)

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
            if FINAL_BADNESS.get(receipt.status, -1) > FINAL_BADNESS[DlrStatus.EXPIRED]:
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
                "prices": {
                    m: (price_text(p) if p is not None else None) for m, p in self.prices.items()
                },
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
            prices={
                m: (decode_amount(p) if p is not None else None) for m, p in data["prices"].items()
            },
            created=data["created"],
            updated=data["updated"],
            expired=data["expired"],
            first_at=decode_datetime(data["first_at"]) if data["first_at"] else None,
            last_at=decode_datetime(data["last_at"]) if data["last_at"] else None,
        )
