"""The SMS API's reply to a send request: one entry per part of the message."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import IntEnum
from typing import Any, Final

import attrs

from ._errors import InvalidFieldError, MalformedPayloadError, MissingFieldError
from ._fields import DecodeError, decode_price, single_value
from ._limits import DEFAULT_LIMITS, Limits
from ._parse import decode_json_value
from ._receipt import FrozenFields

__all__ = ["SendResponse", "SendStatus", "SentPart", "parse_send_response"]


class SendStatus(IntEnum):
    """The ``status`` of a part in the send response (not the DLR err-code)."""

    SUCCESS = 0
    THROTTLED = 1
    MISSING_PARAMETERS = 2
    INVALID_PARAMETERS = 3
    INVALID_CREDENTIALS = 4
    INTERNAL_ERROR = 5
    INVALID_MESSAGE = 6
    NUMBER_BARRED = 7
    PARTNER_ACCOUNT_BARRED = 8
    PARTNER_QUOTA_VIOLATION = 9
    TOO_MANY_EXISTING_BINDS = 10
    ACCOUNT_NOT_ENABLED_FOR_HTTP = 11
    MESSAGE_TOO_LONG = 12
    INVALID_SIGNATURE = 14
    INVALID_SENDER_ADDRESS = 15
    INVALID_NETWORK_CODE = 22
    INVALID_CALLBACK_URL = 23
    NON_WHITELISTED_DESTINATION = 29
    SIGNATURE_AND_API_SECRET_DISALLOWED = 32
    NUMBER_DEACTIVATED = 33

    @property
    def description(self) -> str:
        """What the status means, in words."""
        return (
            self.name.replace("_", " ").capitalize().replace("http", "HTTP").replace("api", "API")
        )

    @classmethod
    def lookup(cls, code: int) -> SendStatus | None:
        """The member for *code*, or None for a status this table does not list."""
        return _SEND_STATUSES.get(code)


_SEND_STATUSES: Final[Mapping[int, SendStatus]] = {int(s): s for s in SendStatus}


@attrs.frozen(kw_only=True)
class SentPart:
    """One part of a sent message, as the send response describes it.

    A part refused at sending (``status`` not 0) has ``error_text`` and, usually,
    no ``message_id`` and no price.
    """

    message_id: str | None
    to: str | None
    status: int
    remaining_balance: Decimal | None = None
    message_price: Decimal | None = None
    network: str | None = None
    client_ref: str | None = None
    account_ref: str | None = None
    error_text: str | None = None
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=FrozenFields, hash=False)

    @property
    def send_status(self) -> SendStatus | None:
        """``status`` as a :class:`SendStatus`, or None if the table does not list it."""
        return SendStatus.lookup(self.status)

    @property
    def is_sent(self) -> bool:
        """True when the part was accepted for sending (status 0)."""
        return self.status == 0


@attrs.frozen(kw_only=True)
class SendResponse:
    """The reply to one send request: ``message_count`` parts in ``messages``."""

    message_count: int
    messages: tuple[SentPart, ...]

    @property
    def message_ids(self) -> tuple[str, ...]:
        """The ids of the parts accepted for sending, in order."""
        return tuple(p.message_id for p in self.messages if p.is_sent and p.message_id)

    @property
    def is_success(self) -> bool:
        """True when every part was accepted for sending."""
        return all(p.is_sent for p in self.messages)

    @property
    def total_price(self) -> Decimal | None:
        """The sum of the parts' prices, or None when no part has one."""
        prices = [p.message_price for p in self.messages if p.message_price is not None]
        return sum(prices, Decimal(0)) if prices else None


_PART_FIELDS: Final = {
    "message-id": "message_id",
    "to": "to",
    "network": "network",
    "client-ref": "client_ref",
    "account-ref": "account_ref",
    "error-text": "error_text",
}
_PART_PRICES: Final = {"remaining-balance": "remaining_balance", "message-price": "message_price"}


def _count(name: str, value: object) -> int:
    text = value if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if text is None or not (text.isdigit() and text.isascii() and len(text) <= 9):
        raise InvalidFieldError(name, value, "expected a non-negative integer")
    return int(text)


def _part(index: int, raw: object) -> SentPart:
    where = f"messages[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidFieldError(where, raw, "expected an object")
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for name, given in raw.items():
        field = f"{where}.{name}"
        if isinstance(given, int) and not isinstance(given, bool):
            given = str(given)
        value = single_value(field, given)
        if value is None or value in ("", "null"):
            continue
        if name == "status":
            values["status"] = _count(field, value)
        elif name in _PART_FIELDS:
            values[_PART_FIELDS[name]] = value
        elif name in _PART_PRICES:
            try:
                values[_PART_PRICES[name]] = decode_price(value)
            except DecodeError as exc:
                raise InvalidFieldError(field, value, str(exc)) from None
        else:
            extra[name] = value
    if "status" not in values:
        raise MissingFieldError(f"{where}.status")
    values.setdefault("message_id", None)
    values.setdefault("to", None)
    if values["status"] == 0 and not values["message_id"]:
        raise MissingFieldError(f"{where}.message-id")
    return SentPart(**values, extra=extra)


def parse_send_response(
    body: str | bytes | Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS
) -> SendResponse:
    """Parse the SMS API's JSON reply to a send request.

    *body* is the raw JSON (``str`` or ``bytes``) or the already-decoded
    object. Numbers may be JSON strings (as the API sends them) or numbers.

    Raises:
        DlrError: the body is not valid JSON, lacks ``message-count`` or
            ``messages``, or ``message-count`` disagrees with the parts.
    """
    data = body if isinstance(body, Mapping) else decode_json_value(body, limits=limits)
    if not isinstance(data, Mapping):
        raise MalformedPayloadError(
            f"send response must be a JSON object, got {type(data).__name__}", value=body
        )
    if "message-count" not in data:
        raise MissingFieldError("message-count")
    count = _count("message-count", data["message-count"])
    messages = data.get("messages")
    if messages is None:
        raise MissingFieldError("messages")
    if not isinstance(messages, (list, tuple)):
        raise InvalidFieldError("messages", messages, "expected an array")
    if count != len(messages):
        raise InvalidFieldError(
            "message-count", data["message-count"], f"but the response lists {len(messages)} parts"
        )
    return SendResponse(
        message_count=count, messages=tuple(_part(i, m) for i, m in enumerate(messages))
    )
