"""The wire fields of an SMS delivery receipt: names, Python attributes and codecs.

This is the one place where the receipt's wire names (``err-code``,
``messageId``) meet Python names (``err_code``, ``message_id``). Parsing reads
the table one way, ``DeliveryReceipt.to_wire`` the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from ._codecs import (
    UTC,
    decode_datetime,
    decode_err_code,
    decode_price,
    decode_status,
    decode_strict_status,
    decode_timestamp,
    price_text,
    scts_or_none,
)
from ._table import FieldSpec, Table

__all__ = ["FIELDS", "STRICT_FIELDS", "WIRE_NAMES"]


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
