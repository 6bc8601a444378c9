"""The Messages API's status webhook, in dlrkit's vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from ._classify import Classifiable
from ._errors import InvalidFieldError, MalformedPayloadError, MissingFieldError
from ._fields import DecodeError, decode_price, parse_iso
from ._limits import DEFAULT_LIMITS, Limits
from ._parse import decode_json_value
from ._status import DlrStatus

__all__ = ["MessageError", "MessageStatus", "parse_message_status"]

# Messages API statuses in the SMS DLR vocabulary. "read" (chat channels) is a
# delivery that went further; "undeliverable" is the SMS "failed".
_STATUS: Final[Mapping[str, DlrStatus]] = {
    "submitted": DlrStatus.ACCEPTED,
    "delivered": DlrStatus.DELIVERED,
    "read": DlrStatus.DELIVERED,
    "rejected": DlrStatus.REJECTED,
    "undeliverable": DlrStatus.FAILED,
}
_KNOWN: Final = frozenset(
    {
        "message_uuid",
        "to",
        "from",
        "timestamp",
        "status",
        "channel",
        "client_ref",
        "error",
        "usage",
        "destination",
        "sms",
    }
)


@attrs.frozen(kw_only=True)
class MessageError:
    """The ``error`` object of a status webhook (RFC 7807 style)."""

    type: str | None = None
    title: str | None = None
    detail: str | None = None
    instance: str | None = None


@attrs.frozen(kw_only=True)
class MessageStatus(Classifiable):
    """A Messages API status webhook.

    ``status`` is the Messages API's word; ``dlr_status`` maps it to
    :class:`DlrStatus`. The Messages API's error codes are not the SMS DLR
    err-codes, so ``err_code`` is None and ``classify`` decides by status
    alone; the error itself is in ``error``.
    """

    message_uuid: str
    to: str
    from_: str | None
    timestamp: datetime | None
    status: str
    channel: str | None = None
    client_ref: str | None = None
    error: MessageError | None = None
    price: Decimal | None = None
    currency: str | None = None
    network_code: str | None = None
    count_total: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=dict, eq=False, hash=False)

    @property
    def dlr_status(self) -> DlrStatus:
        return _STATUS.get(self.status.lower(), DlrStatus.UNKNOWN)

    @property
    def err_code(self) -> int | None:
        return None


def _text(data: Mapping[str, Any], name: str, required: bool = False) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise MissingFieldError(name)
        return None
    if isinstance(value, str):
        return value
    raise InvalidFieldError(name, value, "expected a string")


def _object(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidFieldError(name, value, "expected an object")
    return value


def parse_message_status(
    body: str | bytes | Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS
) -> MessageStatus:
    """Parse the JSON body of a Messages API status webhook.

    Raises:
        DlrError: the body is not a JSON object, or ``message_uuid``, ``to`` or
            ``status`` is missing, or a value has the wrong type.
    """
    data = body if isinstance(body, Mapping) else decode_json_value(body, limits=limits)
    if not isinstance(data, Mapping):
        raise MalformedPayloadError(
            f"status webhook must be a JSON object, got {type(data).__name__}", value=body
        )
    stamp = _text(data, "timestamp")
    try:
        timestamp = parse_iso(stamp) if stamp else None
    except DecodeError as exc:
        raise InvalidFieldError("timestamp", stamp, str(exc)) from None
    error = _object(data, "error")
    usage = _object(data, "usage")
    price_text = usage.get("price")
    try:
        price = decode_price(str(price_text)) if price_text not in (None, "") else None
    except DecodeError as exc:
        raise InvalidFieldError("usage.price", price_text, str(exc)) from None
    count = _object(data, "sms").get("count_total")
    if count is not None and not (str(count).isdigit() and len(str(count)) <= 6):
        raise InvalidFieldError("sms.count_total", count, "expected a whole number")
    network = _object(data, "destination").get("network_code")
    return MessageStatus(
        message_uuid=_text(data, "message_uuid", required=True) or "",
        to=_text(data, "to", required=True) or "",
        from_=_text(data, "from"),
        timestamp=timestamp,
        status=_text(data, "status", required=True) or "",
        channel=_text(data, "channel"),
        client_ref=_text(data, "client_ref"),
        error=MessageError(
            **{
                k: str(error[k])
                for k in ("type", "title", "detail", "instance")
                if error.get(k) is not None
            }
        )
        if error
        else None,
        price=price,
        currency=usage.get("currency") if isinstance(usage.get("currency"), str) else None,
        network_code=str(network) if network is not None else None,
        count_total=int(count) if count is not None else None,
        extra={k: v for k, v in data.items() if k not in _KNOWN},
    )
