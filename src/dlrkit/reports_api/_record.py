"""Reports API SMS records: a CSV row of an export, or a JSON object."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from .._classify import Classifiable
from .._codecs import decode_amount, decode_count, decode_datetime, decode_err_code, decode_status
from .._codes import ErrorCode
from .._errors import MalformedPayloadError
from .._frozen import frozen_json
from .._json import decode_json_value
from .._limits import DEFAULT_LIMITS, Limits
from .._status import DlrStatus
from .._table import FieldSpec, Table

__all__ = ["REPORT_COLUMNS", "ReportRecord", "parse_report_record"]


@attrs.frozen(kw_only=True)
class ReportRecord(Classifiable):
    """One SMS record of the Reports API (a CSV row or a JSON object).

    Shares the receipt's vocabulary: ``status`` is a
    :class:`~dlrkit.DlrStatus` (the word as exported is in ``wire_status``),
    and the columns ``error_code``, ``network`` and ``total_price`` are
    ``err_code``, ``network_code`` and ``price``. A record for a message
    still in flight has no status in the export: its ``status`` is
    ``accepted`` (not final) and ``wire_status`` None.
    """

    message_id: str
    status: DlrStatus = DlrStatus.ACCEPTED
    wire_status: str | None = None
    account_id: str | None = None
    client_ref: str | None = None
    direction: str | None = None
    from_: str | None = None
    to: str | None = None
    network_code: str | None = None
    network_name: str | None = None
    country: str | None = None
    date_received: datetime | None = None
    date_finalized: datetime | None = None
    latency: int | None = None
    err_code: int | None = None
    error_code_description: str | None = None
    currency: str | None = None
    price: Decimal | None = None
    extra: Mapping[str, Any] = attrs.field(factory=frozen_json, converter=frozen_json, hash=False)

    @property
    def error(self) -> ErrorCode | None:
        """``err_code`` as an :class:`~dlrkit.ErrorCode`, or None."""
        return None if self.err_code is None else ErrorCode.lookup(self.err_code)

    @property
    def msisdn(self) -> str | None:
        """The recipient's number (the ``to`` column), as a receipt calls it."""
        return self.to

    @property
    def message_timestamp(self) -> datetime | None:
        """When the record's outcome was known: finalised, else received (for reports)."""
        return self.date_finalized or self.date_received


FIELDS: Final = Table(
    FieldSpec("account_id", "account_id"),
    FieldSpec("message_id", "message_id", required=True),
    FieldSpec("client_ref", "client_ref"),
    FieldSpec("direction", "direction"),
    FieldSpec("from", "from_"),
    FieldSpec("to", "to"),
    FieldSpec("network", "network_code"),
    FieldSpec("network_name", "network_name"),
    FieldSpec("country", "country"),
    FieldSpec("date_received", "date_received", decode=decode_datetime),
    FieldSpec("date_finalized", "date_finalized", decode=decode_datetime),
    FieldSpec("latency", "latency", decode=decode_count),
    FieldSpec("status", "status", decode=decode_status),
    FieldSpec("error_code", "err_code", decode=decode_err_code),
    FieldSpec("error_code_description", "error_code_description"),
    FieldSpec("currency", "currency"),
    FieldSpec("total_price", "price", decode=decode_amount),  # a credit may be negative
    strip=True,
    json_extra=True,
)
"""A record's columns; cells are stripped, and empty cells are absent."""

REPORT_COLUMNS: Final = tuple(spec.wire for spec in FIELDS)
"""The columns of a Reports API SMS export, in its order."""


def parse_report_record(
    row: Mapping[str, Any] | str | bytes, *, limits: Limits = DEFAULT_LIMITS
) -> ReportRecord:
    """Parse one Reports API SMS record: a CSV row (``csv.DictReader``) or a JSON object.

    Empty cells are absent; a row without a status is a message still in
    flight. Raises ``DlrError`` when ``message_id`` is missing or a value is
    malformed.
    """
    data = row if isinstance(row, Mapping) else decode_json_value(row, limits=limits)
    if not isinstance(data, Mapping):
        raise MalformedPayloadError(
            f"a report record must be an object, got {type(data).__name__}", value=row
        )
    values, raw, extra = FIELDS.read(data, limits)
    return ReportRecord(**values, wire_status=raw.get("status") or None, extra=extra or {})
