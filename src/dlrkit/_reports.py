"""Reports API SMS records, and Conversion API payloads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Final

import attrs

from ._classify import Classifiable
from ._codes import ErrorCode
from ._errors import InvalidFieldError, MalformedPayloadError, MissingFieldError
from ._fields import DecodeError, decode_price, parse_iso, single_value
from ._parse import decode_json_value
from ._receipt import DeliveryReceipt, FrozenFields
from ._status import DlrStatus

__all__ = ["REPORT_COLUMNS", "ReportRecord", "conversion_payload", "parse_report_record"]

REPORT_COLUMNS: Final = (
    "account_id",
    "message_id",
    "client_ref",
    "direction",
    "from",
    "to",
    "network",
    "network_name",
    "country",
    "date_received",
    "date_finalized",
    "latency",
    "status",
    "error_code",
    "error_code_description",
    "currency",
    "total_price",
)
_STATUS_BY_WORD: Final = {s.value: s for s in DlrStatus}


@attrs.frozen(kw_only=True)
class ReportRecord(Classifiable):
    """One SMS record of the Reports API (a CSV row or a JSON object).

    Shares the receipt's vocabulary: ``dlr_status``, ``err_code``, and
    ``network_code``/``price``/``msisdn`` for reports and classification.
    """

    message_id: str
    status: str
    account_id: str | None = None
    client_ref: str | None = None
    direction: str | None = None
    from_: str | None = None
    to: str | None = None
    network: str | None = None
    network_name: str | None = None
    country: str | None = None
    date_received: datetime | None = None
    date_finalized: datetime | None = None
    latency: int | None = None
    error_code: int | None = None
    error_code_description: str | None = None
    currency: str | None = None
    total_price: Decimal | None = None
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=FrozenFields, hash=False)

    @property
    def dlr_status(self) -> DlrStatus:
        return _STATUS_BY_WORD.get(self.status.strip().lower(), DlrStatus.UNKNOWN)

    @property
    def err_code(self) -> int | None:
        return self.error_code

    @property
    def error(self) -> ErrorCode | None:
        return None if self.error_code is None else ErrorCode.lookup(self.error_code)

    # The receipt's names, so a report can count records and receipts alike.
    @property
    def network_code(self) -> str | None:
        return self.network

    @property
    def price(self) -> Decimal | None:
        return self.total_price

    @property
    def msisdn(self) -> str | None:
        return self.to


def _int(name: str, value: str) -> int:
    if value.isdigit() and value.isascii() and len(value) <= 10:
        return int(value)
    raise InvalidFieldError(name, value, "expected a whole number")


def parse_report_record(row: Mapping[str, Any] | str | bytes) -> ReportRecord:
    """Parse one Reports API SMS record: a CSV row (``csv.DictReader``) or a JSON object.

    Empty cells are absent. Raises ``DlrError`` when ``message_id`` or
    ``status`` is missing or a value is malformed.
    """
    data = row if isinstance(row, Mapping) else decode_json_value(row)
    if not isinstance(data, Mapping):
        raise MalformedPayloadError(
            f"a report record must be an object, got {type(data).__name__}", value=row
        )
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for name, given in data.items():
        if isinstance(given, (int, float)) and not isinstance(given, bool):
            given = str(given)
        value = single_value(name, given)
        if value is None or value.strip() == "":
            continue
        value = value.strip()
        try:
            if name in ("date_received", "date_finalized"):
                values[name] = parse_iso(value)
            elif name == "total_price":
                values[name] = decode_price(value)
            elif name in ("latency", "error_code"):
                values[name] = _int(name, value)
            elif name == "from":
                values["from_"] = value
            elif name in REPORT_COLUMNS:
                values[name] = value
            else:
                extra[str(name)] = value
        except DecodeError as exc:
            raise InvalidFieldError(str(name), value, str(exc)) from None
    for required in ("message_id", "status"):
        if required not in values:
            raise MissingFieldError(required)
    return ReportRecord(**values, extra=extra)


def conversion_payload(
    receipt_or_message_id: DeliveryReceipt | str,
    delivered: bool,
    timestamp: datetime | None = None,
) -> dict[str, str]:
    """The body the Conversion API expects for one message: pure data, no HTTP.

    In countries without reliable receipts, tell the provider whether a
    message really arrived (e.g. the user typed the code it carried).
    *timestamp* is when it was delivered (UTC); by default the receipt's
    ``message_timestamp``, else now.

    >>> conversion_payload("0B00000127FDBC63", True, datetime(2026, 11, 20, 12, 0))
    {'message-id': '0B00000127FDBC63', 'delivered': 'true', 'timestamp': '2026-11-20 12:00:00'}
    """
    if isinstance(receipt_or_message_id, DeliveryReceipt):
        message_id = receipt_or_message_id.message_id
        timestamp = timestamp or receipt_or_message_id.message_timestamp
    else:
        message_id = receipt_or_message_id
    if not message_id:
        raise ValueError("a message id is needed")
    when = timestamp or datetime.now(timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return {
        "message-id": message_id,
        "delivered": "true" if delivered else "false",
        "timestamp": when.strftime("%Y-%m-%d %H:%M:%S"),
    }
