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
from collections.abc import Container, Mapping, MutableMapping
from datetime import datetime, timezone
from decimal import Decimal
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring_ascii,
)
from json.scanner import c_make_scanner  # type: ignore[attr-defined]
from typing import Any, Final

import attrs

from .._codecs import price_text, stored_datetime, stored_decimal
from .._parse import receipt as trusted_receipt
from .._receipt import DeliveryReceipt, freeze_fields
from .._status import DlrStatus

__all__ = [
    "FINAL_BADNESS",
    "MessageRecord",
    "ReceiptMemo",
    "decode_receipt",
    "encode_receipt",
    "encoded",
    "is_complete",
    "load_receipt",
]

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
_new_record: Final = object.__new__
_new_receipt: Final = object.__new__

ReceiptMemo = MutableMapping[int, "tuple[DeliveryReceipt, str]"]
"""id(receipt) -> (the receipt, its encoding), for receipts loaded from a
store: saving them again reuses the encoding instead of building it again
(the receipt is held, so its id is not reused while the memo lives)."""


def load_receipt(wire: Mapping[str, Any]) -> DeliveryReceipt:
    """A receipt a store wrote, read back.

    Stored receipts are dlrkit's own data: each passed the limits it was
    parsed with once, and those may have been wider than the defaults. So it
    is read without the hostile-input limits (the field codecs still run);
    what was accepted once loads again.
    """
    return trusted_receipt(wire)


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

    def copy(self) -> MessageRecord:
        """A copy that can be changed without changing this record.

        ``prices`` is shared: it is set once, by ``Tracker.expect``.
        """
        # Attribute by attribute rather than through __init__: a third
        # cheaper, and the memory store copies a record for every receipt.
        copy = _new_record(MessageRecord)
        copy.key = self.key
        copy.parts = self.parts.copy()
        copy.prices = self.prices
        copy.created = self.created
        copy.updated = self.updated
        copy.expired = self.expired.copy() if self.expired else {}
        copy.first_at = self.first_at
        copy.last_at = self.last_at
        return copy

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

    def to_text(self, memo: ReceiptMemo | None = None) -> str:
        """The record as text for a store; *memo* holds the encodings of receipts already known.

        One line of JSON a part, in sending order, after a header line (see
        below), so that writing a record joins its parts' encodings as they
        are: an unchanged part costs nothing, and nothing is escaped twice.
        """
        first_at, last_at = self.first_at, self.last_at
        header = _dumps(
            [
                self.key,
                self.created,
                self.updated,
                self.expired,
                None if first_at is None else first_at.isoformat(),
                None if last_at is None else last_at.isoformat(),
                {m: (None if p is None else price_text(p)) for m, p in self.prices.items()},
            ]
        )
        return "\n".join(
            [header] + [_dumps(m) if r is None else encoded(r, memo) for m, r in self.parts.items()]
        )

    @classmethod
    def from_text(cls, text: str, memo: ReceiptMemo | None = None) -> MessageRecord:
        """A record from :meth:`to_text`'s text; *memo* learns the receipts' encodings.

        Raises:
            ValueError: the text is not a record's (a damaged row).
        """
        try:
            return cls._from_text(text, memo)
        except (ValueError, TypeError, LookupError) as error:
            raise ValueError(f"a stored record is damaged ({error}): {text[:80]!r}") from error

    @classmethod
    def _from_text(cls, text: str, memo: ReceiptMemo | None) -> MessageRecord:
        # The lines read as one JSON list: one call into the decoder.
        header, *values = _loads("[" + text.replace("\n", ",") + "]")
        key, created, updated, expired, first_at, last_at, prices = header
        parts: dict[str, DeliveryReceipt | None] = {}
        for value in values:
            if type(value) is str:  # a part with no receipt yet: its id
                parts[value] = None
                continue
            parts[value[0]] = decode_receipt(value)
        if memo is not None:
            for line, receipt in zip(text.split("\n")[1:], parts.values(), strict=True):
                if receipt is not None:
                    memo[id(receipt)] = (receipt, line)
        return cls(
            key,
            parts,
            {m: (None if p is None else stored_decimal(p)) for m, p in prices.items()},
            created,
            updated,
            expired,
            None if first_at is None else _from_iso(first_at),
            None if last_at is None else _from_iso(last_at),
        )


# -- how a record is written -----------------------------------------------------------------
#
# Lines of JSON, joined by "\n" (JSON text never holds a raw newline: the
# encoder escapes it inside strings). The first line is the header,
# [key, created, updated, expired, first_at, last_at, prices]; then one line a
# part, in sending order: the part's stored receipt (a JSON list, whose first
# value is the part's id), or the part's id alone (a JSON string) while it has
# no receipt.
#
# A stored receipt is a JSON list (a line of the record's text, so that
# writing a record reuses the text of its unchanged parts): its typed values
# (in _ATTRS order, each in a form that converts back exactly and cheaply: a
# status's word, a price's text, a time's ISO text), then the raw wire text
# of its typed fields, then its unknown fields. Reading it back runs no codec
# and no hostile-input limit: it is dlrkit's own data, and a receipt accepted
# once (under whatever Limits) must load again. Both ways it is about three
# times cheaper than to_wire() and parsing, and that is most of what a batch
# costs.

_ATTRS: Final = (
    "message_id",
    "msisdn",
    "to",
    "status",
    "err_code",
    "network_code",
    "price",
    "scts",
    "message_timestamp",
    "client_ref",
    "api_key",
    "timestamp",
    "nonce",
    "sig",
)
_STATUS_OF: Final = {status.value: status for status in DlrStatus}
_from_iso: Final = stored_datetime


# JSON both ways through the standard library's C functions directly: its
# Python wrappers (json.loads, JSONEncoder.encode) cost as much again as the
# work, for values this small. The same text either way.
_encoder: Final = json.JSONEncoder(separators=(",", ":"))
_decoder: Final = json.JSONDecoder()
_c_encode: Final = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None, _encoder.default, encode_basestring_ascii, None, ":", ",", False, False, True
    )
)
_c_scan: Final = None if c_make_scanner is None else c_make_scanner(_decoder)


def _dumps(value: Any) -> str:
    if _c_encode is None:  # pragma: no cover - Pythons without the C accelerator
        return _encoder.encode(value)
    return "".join(_c_encode(value, 0))


def _loads(text: str) -> Any:
    if _c_scan is None:  # pragma: no cover - Pythons without the C accelerator
        return _decoder.decode(text)
    try:
        value, end = _c_scan(text, 0)
    except StopIteration as stop:  # what the scanner raises for text that is not JSON
        raise ValueError(f"not JSON at character {stop.value}") from None
    if end != len(text):
        raise ValueError(f"more than JSON, from character {end}")
    return value


def encode_receipt(receipt: DeliveryReceipt) -> list[Any]:
    """A receipt as JSON-ready values (see above)."""
    price, scts, stamp, timestamp = (
        receipt.price,
        receipt.scts,
        receipt.message_timestamp,
        receipt.timestamp,
    )
    return [
        receipt.message_id,
        receipt.msisdn,
        receipt.to,
        receipt.status.value,
        receipt.err_code,
        receipt.network_code,
        None if price is None else str(price),
        None if scts is None else scts.isoformat(),
        None if stamp is None else stamp.isoformat(),
        receipt.client_ref,
        receipt.api_key,
        None if timestamp is None else timestamp.isoformat(),
        receipt.nonce,
        receipt.sig,
        dict(receipt._raw),  # the wire text, so that to_wire() is exact after a reload
        dict(receipt.extra),
    ]


def decode_receipt(encoded: list[Any]) -> DeliveryReceipt:
    """The receipt :func:`encode_receipt` wrote.

    Built without ``__init__`` (whose per-field cost is most of a load): the
    values were checked when the receipt was parsed. A test holds it to
    ``DeliveryReceipt(...)``.
    """
    (mid, msisdn, to, status, err_code, network_code, price, scts, stamp, client_ref, api_key,
     timestamp, nonce, sig, raw, extra) = encoded  # fmt: skip
    receipt = _new_receipt(DeliveryReceipt)
    receipt.__dict__.update(
        {
            "message_id": mid,
            "msisdn": msisdn,
            "to": to,
            "status": _STATUS_OF[status],
            "err_code": err_code,
            "network_code": network_code,
            "price": None if price is None else stored_decimal(price),
            "scts": None if scts is None else _from_iso(scts),
            "message_timestamp": None if stamp is None else _from_iso(stamp),
            "client_ref": client_ref,
            "api_key": api_key,
            "timestamp": None if timestamp is None else _from_iso(timestamp),
            "nonce": nonce,
            "sig": sig,
            "extra": freeze_fields(extra),
            "_raw": raw,
        }
    )
    return receipt


def encoded(receipt: DeliveryReceipt, memo: ReceiptMemo | None) -> str:
    """A receipt's stored text: from *memo* if it is there, else made (and put there)."""
    if memo is None:
        return _dumps(encode_receipt(receipt))
    known = memo.get(id(receipt))
    if known is not None and known[0] is receipt:
        return known[1]
    text = _dumps(encode_receipt(receipt))
    memo[id(receipt)] = (receipt, text)
    return text
