"""The SMS API's reply to a send request: one entry per part of the message."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import IntEnum
from typing import Any, Final

import attrs

from ._codecs import decode_amount, decode_count, decode_price, exact_sum
from ._errors import InvalidFieldError, MalformedPayloadError, MissingFieldError
from ._frozen import frozen_json
from ._json import decode_json_value
from ._limits import DEFAULT_LIMITS, Limits
from ._table import FieldSpec, Nested, Table

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

    ``status_code`` is the send status as a number (0 is success) and
    :attr:`send_status` its row in :class:`SendStatus`, as a receipt has
    ``err_code`` and ``error``. A part refused at sending has ``error_text``
    and, usually, no ``message_id`` and no price. Fields the table does not
    know are kept in ``extra``.
    """

    status_code: int
    message_id: str | None = None
    to: str | None = None
    remaining_balance: Decimal | None = None
    message_price: Decimal | None = None
    network: str | None = None
    client_ref: str | None = None
    account_ref: str | None = None
    error_text: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=frozen_json, converter=frozen_json, hash=False)

    @property
    def send_status(self) -> SendStatus | None:
        """``status_code`` as a :class:`SendStatus`, or None if the table does not list it."""
        return SendStatus.lookup(self.status_code)

    @property
    def is_sent(self) -> bool:
        """True when the part was accepted for sending (status 0)."""
        return self.status_code == 0


@attrs.frozen(kw_only=True)
class SendResponse:
    """The reply to one send request: ``message_count`` parts in ``messages``."""

    message_count: int
    messages: tuple[SentPart, ...]
    extra: Mapping[str, Any] = attrs.field(factory=frozen_json, converter=frozen_json, hash=False)

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
        return exact_sum(prices) if prices else None


_PART: Final = Table(
    FieldSpec("status", "status_code", required=True, decode=decode_count),
    FieldSpec("message-id", "message_id"),
    FieldSpec("to", "to"),
    FieldSpec("remaining-balance", "remaining_balance", decode=decode_amount),
    FieldSpec("message-price", "message_price", decode=decode_price),
    FieldSpec("network", "network"),
    FieldSpec("client-ref", "client_ref"),
    FieldSpec("account-ref", "account_ref"),
    FieldSpec("error-text", "error_text"),
    json_extra=True,
)
FIELDS: Final = Table(
    FieldSpec("message-count", "message_count", required=True, decode=decode_count),
    FieldSpec("messages", "messages", required=True, nested=Nested(_PART, SentPart, many=True)),
    json_extra=True,
)
"""The send response's fields; ``messages`` holds one row of ``_PART`` per part."""


def parse_send_response(
    body: str | bytes | Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS
) -> SendResponse:
    """Parse the SMS API's JSON reply to a send request.

    *body* is the raw JSON (``str`` or ``bytes``) or the already-decoded
    object. Numbers may be JSON strings (as the API sends them) or numbers.

    Raises:
        DlrError: the body is not valid JSON, lacks ``message-count`` or
            ``messages``, ``message-count`` disagrees with the parts, or a
            part accepted for sending has no ``message-id``.
    """
    data = body if isinstance(body, Mapping) else decode_json_value(body, limits=limits)
    if not isinstance(data, Mapping):
        raise MalformedPayloadError(
            f"send response must be a JSON object, got {type(data).__name__}", value=body
        )
    values, raw, extra = FIELDS.read(data, limits)
    messages: tuple[SentPart, ...] = values["messages"]
    if values["message_count"] != len(messages):
        raise InvalidFieldError(
            "message-count", raw["message-count"], f"but the response lists {len(messages)} parts"
        )
    for index, part in enumerate(messages):
        if part.is_sent and not part.message_id:
            raise MissingFieldError(f"messages[{index}].message-id")
    return SendResponse(**values, extra=extra or {})
