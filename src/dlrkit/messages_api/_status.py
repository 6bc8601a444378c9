"""The Messages API's status webhook, in dlrkit's vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from .._classify import Classifiable
from .._codecs import decode_count, decode_datetime, decode_price, decode_status
from .._errors import MalformedPayloadError
from .._frozen import frozen_json
from .._json import decode_json_value
from .._limits import DEFAULT_LIMITS, Limits
from .._status import DlrStatus
from .._table import FieldSpec, Nested, Table

__all__ = ["MessageError", "MessageStatus", "parse_message_status"]


@attrs.frozen(kw_only=True)
class MessageError:
    """The ``error`` object of a status webhook (RFC 7807 style)."""

    type: str | None = None
    title: str | None = None
    detail: str | None = None
    instance: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=frozen_json, converter=frozen_json, hash=False)


@attrs.frozen(kw_only=True)
class MessageStatus(Classifiable):
    """A Messages API status webhook.

    ``status`` maps the Messages API's word (kept in ``wire_status``) to a
    :class:`~dlrkit.DlrStatus`: ``submitted`` is accepted, ``read`` is
    delivered, ``undeliverable`` is failed. The Messages API's error codes
    are not the SMS err-codes, so ``err_code`` is None and ``classify``
    decides by status alone; the error itself is in ``error``. Fields the
    table does not know are kept, frozen, in ``extra``.
    """

    message_uuid: str
    to: str
    status: DlrStatus
    wire_status: str
    from_: str | None = None
    timestamp: datetime | None = None
    channel: str | None = None
    client_ref: str | None = None
    error: MessageError | None = None
    price: Decimal | None = None
    currency: str | None = None
    network_code: str | None = None
    count_total: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=frozen_json, converter=frozen_json, hash=False)

    @property
    def err_code(self) -> int | None:
        """Always None: the Messages API's error codes are not the SMS err-codes."""
        return None


_ERROR: Final = Table(
    FieldSpec("type", "type"),
    FieldSpec("title", "title"),
    FieldSpec("detail", "detail"),
    FieldSpec("instance", "instance"),
    json_extra=True,
)
FIELDS: Final = Table(
    FieldSpec("message_uuid", "message_uuid", required=True),
    FieldSpec("to", "to", required=True),
    FieldSpec("from", "from_"),
    FieldSpec("timestamp", "timestamp", decode=decode_datetime),
    FieldSpec("status", "status", required=True, decode=decode_status),
    FieldSpec("channel", "channel"),
    FieldSpec("client_ref", "client_ref"),
    FieldSpec("error", "error", nested=Nested(_ERROR, MessageError)),
    # These objects' fields join the status's own: usage.price is .price.
    FieldSpec(
        "usage",
        "usage",
        nested=Nested(
            Table(
                FieldSpec("price", "price", decode=decode_price),
                FieldSpec("currency", "currency"),
                json_extra=True,
            )
        ),
    ),
    FieldSpec(
        "destination",
        "destination",
        nested=Nested(Table(FieldSpec("network_code", "network_code"), json_extra=True)),
    ),
    FieldSpec(
        "sms",
        "sms",
        nested=Nested(
            Table(FieldSpec("count_total", "count_total", decode=decode_count), json_extra=True)
        ),
    ),
    json_extra=True,
)
"""The status webhook's fields, nested objects included."""


def parse_message_status(
    body: str | bytes | Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS
) -> MessageStatus:
    """Parse the JSON body of a Messages API status webhook.

    *body* is the raw JSON (``str`` or ``bytes``) or the already-decoded object.

    Raises:
        DlrError: the body is not a JSON object, or ``message_uuid``, ``to`` or
            ``status`` is missing, or a value has the wrong type.
    """
    data = body if isinstance(body, Mapping) else decode_json_value(body, limits=limits)
    if not isinstance(data, Mapping):
        raise MalformedPayloadError(
            f"status webhook must be a JSON object, got {type(data).__name__}", value=body
        )
    values, raw, extra = FIELDS.read(data, limits)
    return MessageStatus(**values, wire_status=raw["status"], extra=extra or {})
