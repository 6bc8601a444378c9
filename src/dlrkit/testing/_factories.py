"""Factories for receipts, payloads and requests, with keyword overrides."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final, Literal
from urllib.parse import urlencode

from .._fields import FIELDS, WIRE_NAMES
from .._parse import parse
from .._receipt import DeliveryReceipt
from .._signature import SignatureMethod, sign

__all__ = ["Encoding", "make_dlr", "make_dlr_payload", "make_dlr_request"]

Encoding = Literal["query", "form", "json"]
ENCODINGS: Final[tuple[Encoding, ...]] = ("query", "form", "json")

# A delivered receipt as the provider sends it (the guide's sample).
DEFAULT_FIELDS: Final[Mapping[str, str]] = {
    "messageId": "0B00000127FDBC63",
    "msisdn": "447547232824",
    "to": "Vonage",
    "network-code": "23410",
    "price": "0.03330000",
    "status": "delivered",
    "scts": "1810251310",
    "err-code": "0",
    "message-timestamp": "2018-10-25 12:10:29",
}
_WIRE_NAME: Final = WIRE_NAMES


def _wire_fields(overrides: Mapping[str, Any]) -> dict[str, str]:
    fields = dict(DEFAULT_FIELDS)
    for name, value in overrides.items():
        if name == "extra":
            fields.update(value)
            continue
        wire = _WIRE_NAME.get(name)
        if wire is None:
            allowed = ", ".join(sorted([*_WIRE_NAME, "extra"]))
            raise TypeError(f"make_dlr() got an unknown field {name!r}; expected one of {allowed}")
        if value is None:
            fields.pop(wire, None)
        elif isinstance(value, str):
            # A wire string, kept as given ("000", an odd scts, ...); DlrStatus too.
            fields[wire] = str.__str__(value)
        else:
            fields[wire] = FIELDS.specs[wire].encode(value)
    return fields


def make_dlr(**overrides: Any) -> DeliveryReceipt:
    """A valid receipt: the guide's delivered sample, with *overrides*.

    Keywords are ``DeliveryReceipt`` attribute names. Values may be typed
    (``status=DlrStatus.FAILED``, ``price=Decimal("0.05")``) or wire strings
    (``status="failed"``, ``err_code="000"``); ``None`` removes an optional
    field; ``extra={...}`` adds unknown fields. The receipt is built by
    :func:`dlrkit.parse`, so it is exactly what a webhook would produce.

    >>> make_dlr(status="failed", err_code=2).error
    <ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY: 2>
    """
    return parse(_wire_fields(overrides))


def _signed(
    fields: dict[str, str],
    secret: str | bytes,
    method: SignatureMethod | str,
    now: datetime | None,
) -> dict[str, str]:
    moment = now if now is not None else datetime.now(timezone.utc)
    fields.setdefault("timestamp", str(int(moment.timestamp())))
    fields.setdefault("nonce", secrets.token_hex(8))
    fields["sig"] = sign(fields, secret, method)
    return fields


def _encode(fields: Mapping[str, str], encoding: Encoding) -> bytes:
    if encoding == "json":
        return json.dumps(fields).encode("utf-8")
    if encoding in ("query", "form"):
        return urlencode(fields).encode("ascii")
    raise ValueError(f"unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")


def make_dlr_payload(
    encoding: Encoding = "json",
    *,
    secret: str | bytes | None = None,
    signature_method: SignatureMethod | str = SignatureMethod.SHA256,
    now: datetime | None = None,
    **overrides: Any,
) -> bytes:
    """The wire bytes of a receipt: a query string, a form body or a JSON body.

    Overrides are as for :func:`make_dlr`. With *secret*, the payload is
    signed as the provider signs it (``timestamp`` now, or at *now* for a
    fixed clock, a random ``nonce``, and ``sig``), unless you override those
    fields yourself.

    >>> make_dlr_payload("query", status="failed", err_code=7)[:26]
    b'messageId=0B00000127FDBC63'
    """
    fields = _wire_fields(overrides)
    if secret is not None:
        fields = _signed(fields, secret, signature_method, now)
    return _encode(fields, encoding)


def make_dlr_request(
    encoding: Encoding = "json",
    *,
    secret: str | bytes | None = None,
    signature_method: SignatureMethod | str = SignatureMethod.SHA256,
    now: datetime | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A webhook request as keyword arguments for :func:`dlrkit.parse_request`.

    ``method``, ``content_type``, ``query`` and ``body``, as the provider
    would send them for *encoding*: ``dlrkit.parse_request(**make_dlr_request())``.
    """
    payload = make_dlr_payload(
        encoding, secret=secret, signature_method=signature_method, now=now, **overrides
    )
    if encoding == "query":
        return {"method": "GET", "content_type": None, "query": payload, "body": b""}
    content_type = "application/json" if encoding == "json" else "application/x-www-form-urlencoded"
    return {"method": "POST", "content_type": content_type, "query": b"", "body": payload}
