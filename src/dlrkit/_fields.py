"""The wire fields of an SMS delivery receipt: names, Python attributes and codecs.

This is the one place where the receipt's wire names (``err-code``,
``messageId``) meet Python names (``err_code``, ``message_id``). Parsing reads
the table one way, ``DeliveryReceipt.to_wire`` the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, cast

from ._codecs import (
    UTC,
    DecodeError,
    decode_datetime,
    decode_err_code,
    decode_price,
    decode_status,
    decode_strict_status,
    decode_timestamp,
    price_text,
    scts_or_none,
)
from ._status import DlrStatus
from ._table import ABSENT, FieldSpec, Table

__all__ = ["FIELDS", "STRICT_FIELDS", "WIRE_NAMES", "quick_read"]


def _encode_scts(value: datetime) -> str:
    return value.strftime("%y%m%d%H%M")


def _encode_message_timestamp(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _encode_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(int(value.timestamp()))


# Order is the order of to_wire(); it follows the API reference.
FIELDS: Final = Table(
    FieldSpec("messageId", "message_id", required=True),
    FieldSpec("msisdn", "msisdn", required=True),
    FieldSpec("to", "to", required=True),
    FieldSpec("network-code", "network_code"),
    FieldSpec("price", "price", decode=decode_price, encode=price_text),
    FieldSpec("status", "status", required=True, decode=decode_status),
    FieldSpec("scts", "scts", decode=scts_or_none, encode=_encode_scts),
    FieldSpec("err-code", "err_code", required=True, decode=decode_err_code),
    FieldSpec("api-key", "api_key"),
    FieldSpec("client-ref", "client_ref"),
    FieldSpec(
        "message-timestamp",
        "message_timestamp",
        decode=decode_datetime,
        encode=_encode_message_timestamp,
    ),
    FieldSpec("timestamp", "timestamp", decode=decode_timestamp, encode=_encode_timestamp),
    FieldSpec("nonce", "nonce"),
    FieldSpec("sig", "sig"),
)

STRICT_FIELDS: Final = Table(
    *(s._replace(decode=decode_strict_status) if s.wire == "status" else s for s in FIELDS)
)
"""FIELDS with ``strict=True``: the status must be one of the seven wire words."""

WIRE_NAMES: Final = {spec.attr: spec.wire for spec in FIELDS}
"""Attribute name -> wire name, for the test factories and strategies."""

_KNOWN: Final = frozenset(FIELDS.specs)
_EXACT_STATUS: Final = {s.value: s for s in DlrStatus}
_TEXT: Final = tuple((spec.wire, spec.attr) for spec in FIELDS if spec.decode is None)
_STR: Final = frozenset({str})
# The optional typed fields, as the table reads them (their codecs' fast paths
# cover the usual text, so no exception is raised for it).
_TYPED: Final = (
    ("price", "price", decode_price),
    ("scts", "scts", scts_or_none),
    ("message-timestamp", "message_timestamp", decode_datetime),
    ("timestamp", "timestamp", decode_timestamp),
)


def quick_read(
    fields: dict[str, object],
) -> tuple[dict[str, object], dict[str, str], None] | None:
    """``FIELDS.read(fields)`` for the usual receipt; None for anything else.

    The usual receipt: only the table's fields, every value text and none of
    them an absent marker, the status one of the seven words, err-code ASCII
    digits, every typed value readable. Its checks are whole-mapping ones,
    done in C; anything else (and every error) is left to the table's loop,
    which reads it the general way. A property test holds the two alike.
    For a mapping already checked against the limits, as FIELDS.read is.
    """
    if not (_KNOWN.issuperset(fields) and set(map(type, fields.values())) == _STR):
        return None
    texts = cast("dict[str, str]", fields)
    if not ABSENT.isdisjoint(texts.values()):
        return None
    get = texts.get
    state: dict[str, object] = {attr: get(wire) for wire, attr in _TEXT}
    status = _EXACT_STATUS.get(texts.get("status", ""))
    err_text = get("err-code", "")
    if (
        status is None
        or state["message_id"] is None
        or state["msisdn"] is None
        or state["to"] is None
        or not (err_text.isascii() and err_text.isdigit() and len(err_text) <= 10)
    ):
        return None
    state["status"] = status
    state["err_code"] = int(err_text)
    raw = {"status": texts["status"], "err-code": err_text}
    for wire, attr, decode in _TYPED:
        text = get(wire)
        if text is not None:
            raw[wire] = text
            try:
                state[attr] = decode(text)
            except DecodeError:
                return None
    return state, raw, None
