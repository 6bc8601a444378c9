"""The wire fields of a delivery receipt: names, Python attributes and codecs.

This is the one place where wire names (``err-code``, ``messageId``) meet
Python names (``err_code``, ``message_id``). Parsing reads the table one way,
``DeliveryReceipt.to_wire`` the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NamedTuple

from ._errors import InvalidFieldError
from ._status import DlrStatus

__all__ = [
    "ABSENT",
    "FIELDS",
    "REQUIRED",
    "DecodeError",
    "FieldSpec",
    "decode_price",
    "decode_scts",
    "parse_iso",
    "single_value",
]

UTC: Final = timezone.utc

# Values that mean "not sent" for an optional field. Some SDKs and proxies
# write a missing value as the literal string "null".
ABSENT: Final = frozenset({"", "null"})


class DecodeError(Exception):
    """Raised by a decoder; the parser turns it into InvalidFieldError."""


def _decode_status(raw: str) -> DlrStatus:
    status = _STATUS_BY_WIRE.get(raw)
    if status is None:
        # Lenient: unknown words map to UNKNOWN; the raw word stays in to_wire().
        status = _STATUS_BY_WIRE.get(raw.strip().lower(), DlrStatus.UNKNOWN)
    return status


_STATUS_BY_WIRE: Final[Mapping[str, DlrStatus]] = {s.value: s for s in DlrStatus}

# err-code is a small non-negative integer; ten digits is far beyond any code
# and keeps int() away from pathological lengths.
_MAX_CODE_DIGITS: Final = 10


def _decode_err_code(raw: str) -> int:
    if raw.isdigit() and raw.isascii() and len(raw) <= _MAX_CODE_DIGITS:
        return int(raw)
    raise DecodeError("expected a non-negative integer")


def decode_price(raw: str) -> Decimal:
    try:
        price = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise DecodeError("expected a decimal number such as '0.03330000'") from None
    if not price.is_finite():
        raise DecodeError("expected a finite decimal number")
    return price


def _encode_price(price: Decimal) -> str:
    # Fixed-point: the provider never sends exponents ("1E-7").
    return format(price, "f")


def decode_scts(raw: str) -> datetime | None:
    # YYMMDDHHMM (or YYMMDDHHMMSS) in the carrier's unstated time zone; SMPP
    # receipts' dates have the same grammar. Carriers send odd values
    # ("1234567890" in SDK fixtures): unparseable gives None, and the raw
    # string stays in to_wire().
    size = len(raw)
    if (size != 10 and size != 12) or not (raw.isdigit() and raw.isascii()):
        return None
    seconds = f":{raw[10:12]}" if size == 12 else ""
    try:
        return datetime.fromisoformat(
            f"20{raw[0:2]}-{raw[2:4]}-{raw[4:6]}T{raw[6:8]}:{raw[8:10]}{seconds}"
        )
    except ValueError:
        return None


def _encode_scts(value: datetime) -> str:
    return value.strftime("%y%m%d%H%M")


def _decode_message_timestamp(raw: str) -> datetime:
    # The provider's "YYYY-MM-DD HH:MM:SS" (UTC) is by far the commonest case.
    if len(raw) == 19:
        try:
            return datetime.fromisoformat(raw + "+00:00")
        except ValueError:
            pass
    return parse_iso(raw)


def parse_iso(raw: str) -> datetime:
    text = raw
    if text.endswith(("Z", "z")):
        # datetime.fromisoformat learnt "Z" only in Python 3.11.
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise DecodeError("expected a date and time such as '2020-07-17 02:34:35'") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _encode_message_timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


# Unix seconds fit in 11 digits until the year 5138.
_MAX_UNIX_DIGITS: Final = 11


def _decode_timestamp(raw: str) -> datetime:
    # Unix seconds on signed requests; ISO 8601 text has been seen too.
    if raw.isdigit() and raw.isascii():
        if len(raw) > _MAX_UNIX_DIGITS:
            raise DecodeError("unix time out of range")
        return datetime.fromtimestamp(int(raw), UTC)
    return parse_iso(raw)


def _encode_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(int(value.timestamp()))


class FieldSpec(NamedTuple):
    """How one wire field maps to a ``DeliveryReceipt`` attribute."""

    wire: str
    attr: str
    required: bool = False
    decode: Callable[[str], Any] | None = None  # None: kept as the string
    encode: Callable[[Any], str] = str

    def matches(self, raw: str, value: object) -> bool:
        """True when *raw* still stands for *value* (so to_wire can repeat it)."""
        if raw in ABSENT and not self.required:
            return value is None
        if self.decode is None:
            return raw == value
        try:
            return bool(self.decode(raw) == value)
        except DecodeError:
            return False


# Order is the order of to_wire(); it follows the API reference.
FIELDS: Final[Mapping[str, FieldSpec]] = {
    spec.wire: spec
    for spec in (
        FieldSpec("messageId", "message_id", required=True),
        FieldSpec("msisdn", "msisdn", required=True),
        FieldSpec("to", "to", required=True),
        FieldSpec("network-code", "network_code"),
        FieldSpec("price", "price", decode=decode_price, encode=_encode_price),
        FieldSpec("status", "status", required=True, decode=_decode_status, encode=str),
        FieldSpec("scts", "scts", decode=decode_scts, encode=_encode_scts),
        FieldSpec("err-code", "err_code", required=True, decode=_decode_err_code),
        FieldSpec("api-key", "api_key"),
        FieldSpec("client-ref", "client_ref"),
        FieldSpec(
            "message-timestamp",
            "message_timestamp",
            decode=_decode_message_timestamp,
            encode=_encode_message_timestamp,
        ),
        FieldSpec("timestamp", "timestamp", decode=_decode_timestamp, encode=_encode_timestamp),
        FieldSpec("nonce", "nonce"),
        FieldSpec("sig", "sig"),
    )
}

REQUIRED: Final[tuple[FieldSpec, ...]] = tuple(s for s in FIELDS.values() if s.required)


def single_value(name: object, value: object) -> str | None:
    """The one string of a field's value: a string, or a list of at most one.

    None means absent (an empty list, or None). Several values are a repeated
    field, refused like a repeated key.
    """
    if type(value) is str:
        return value
    if isinstance(value, str):
        # A str subclass (DlrStatus, a framework's own string type): its plain text.
        return str.__str__(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        if len(value) > 1:
            raise InvalidFieldError(str(name), list(value), "field is repeated")
        value = value[0]
        if isinstance(value, str):
            return str.__str__(value)
    elif value is None:
        return None
    raise InvalidFieldError(str(name), value, f"expected a string, got {type(value).__name__}")
