"""dlrkit.reports_api: Reports API records, as CSV rows and JSON."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlrkit import (
    Action,
    DlrError,
    DlrStatus,
    ErrorCode,
    InvalidFieldError,
    MalformedPayloadError,
    MissingFieldError,
    classify,
)
from dlrkit._cli import main
from dlrkit._codecs import UTC
from dlrkit.messages_api import parse_message_status
from dlrkit.reports_api import REPORT_COLUMNS, ReportRecord, parse_report_record
from dlrkit.testing import strategies as dlr_st

RECORD = {
    "account_id": "abcd1234",
    "message_id": "0B00000127FDBC63",
    "client_ref": "",
    "direction": "outbound",
    "from": "Acme",
    "to": "447700900000",
    "network": "23410",
    "network_name": "Telefonica UK",
    "country": "GB",
    "date_received": "2020-07-17T02:34:35+0000",
    "date_finalized": "2020-07-17T02:34:40+0000",
    "latency": "5000",
    "status": "failed",
    "error_code": "3",
    "error_code_description": "Absent Subscriber - Permanent",
    "currency": "EUR",
    "total_price": "0.03330000",
}


def csv_row(record: dict[str, str], quoting: int = csv.QUOTE_MINIMAL) -> dict[str, str]:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(record), quoting=quoting)
    writer.writeheader()
    writer.writerow(record)
    return next(csv.DictReader(io.StringIO(text.getvalue())))


def test_report_record_from_a_csv_row_and_json() -> None:
    r = parse_report_record(csv_row(RECORD))
    assert r == parse_report_record(json.dumps(RECORD))
    assert (r.status, r.wire_status, r.err_code, r.error) == (
        DlrStatus.FAILED,
        "failed",
        3,
        ErrorCode.ABSENT_SUBSCRIBER_PERMANENT,
    )
    assert r.client_ref is None and r.from_ == "Acme" and r.latency == 5000
    assert r.date_received == datetime(2020, 7, 17, 2, 34, 35, tzinfo=UTC)
    assert (r.network_code, r.price, r.msisdn) == ("23410", Decimal("0.03330000"), "447700900000")
    assert classify(r).action is Action.REMOVE_NUMBER and r.verdict.action is Action.REMOVE_NUMBER
    assert tuple(RECORD) == REPORT_COLUMNS


def test_report_record_of_a_message_still_in_flight() -> None:
    # Real exports: no status, no date_finalized and no price until the message is final.
    row = {**RECORD, "status": "", "date_finalized": "", "total_price": "", "error_code": ""}
    r = parse_report_record(csv_row(row))
    assert (r.status, r.wire_status, r.date_finalized, r.price) == (
        DlrStatus.ACCEPTED,
        None,
        None,
        None,
    )
    assert not r.status.is_final and classify(r).action is Action.WAIT


def test_report_record_statuses_of_other_channels_match_the_messages_api() -> None:
    # WhatsApp rows of the same export say "read": one mapping for every record type.
    for word in ("read", "submitted", "undeliverable", "rejected", "delivered"):
        record = parse_report_record({**RECORD, "status": word})
        status = parse_message_status(
            {"message_uuid": "u", "to": "1", "status": word, "channel": "whatsapp"}
        )
        assert record.status is status.status, word
        assert record.wire_status == word
    assert parse_report_record({**RECORD, "status": "read"}).status is DlrStatus.DELIVERED


def test_report_record_price_may_be_a_credit() -> None:
    assert parse_report_record({**RECORD, "total_price": "-0.0333"}).price == Decimal("-0.0333")


def test_report_record_cells_are_stripped() -> None:
    r = parse_report_record({**RECORD, "status": " DELIVERED ", "total_price": " 0.05 "})
    assert (r.status, r.price) == (DlrStatus.DELIVERED, Decimal("0.05"))


def test_report_record_extra_and_errors() -> None:
    assert parse_report_record({"message_id": "m", "status": "DELIVERED", "x": "1"}).extra == {
        "x": "1"
    }
    assert parse_report_record({"message_id": "m", "status": "DELIVERED"}).status is (
        DlrStatus.DELIVERED
    )
    with pytest.raises(MissingFieldError) as missing:
        parse_report_record({"status": "delivered"})
    assert missing.value.field == "message_id"
    with pytest.raises(InvalidFieldError, match="latency"):
        parse_report_record({**RECORD, "latency": "slow"})
    with pytest.raises(MalformedPayloadError):
        parse_report_record("[1]")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("total_price", "--1000"),
        ("total_price", "+1"),
        ("total_price", "1_000"),
        ("total_price", "١٢"),
        ("total_price", "1E+999999999"),
        ("error_code", "²"),
        ("latency", "9" * 5000),
        ("date_received", "0001-01-01T00:00:00+05:00"),
        ("date_finalized", "9999-12-31T23:59:59-05:00"),
        ("client_ref", "a\x00b"),
    ],
)
def test_report_record_refuses_what_the_codecs_refuse(column: str, value: str) -> None:
    with pytest.raises(InvalidFieldError) as info:
        parse_report_record({**RECORD, column: value})
    assert info.value.field == column


@given(st.dictionaries(st.sampled_from([*RECORD, "x"]), st.text() | st.integers()))
def test_report_record_raises_only_dlr_errors(changes: dict[str, object]) -> None:
    with contextlib.suppress(DlrError):
        parse_report_record({**RECORD, **changes})


@given(dlr_st.report_records())
def test_report_record_strategy(row: dict[str, str]) -> None:
    assert isinstance(parse_report_record(row), ReportRecord)


@pytest.mark.parametrize(
    ("quoting", "bom", "upper"),
    [
        (csv.QUOTE_MINIMAL, "", False),
        (csv.QUOTE_ALL, "", False),  # real exports quote every cell, the header's too
        (csv.QUOTE_ALL, "\ufeff", False),  # and spreadsheets add a byte order mark
        (csv.QUOTE_MINIMAL, "", True),
    ],
)
def test_dlrkit_report_reads_a_reports_api_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], quoting: int, bom: str, upper: bool
) -> None:
    path = tmp_path / "report.csv"
    fields = [name.upper() if upper else name for name in RECORD]
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(bom)
        writer = csv.writer(handle, quoting=quoting)
        writer.writerow(fields)
        writer.writerow(RECORD.values())
        writer.writerow(
            {**RECORD, "message_id": "2", "status": "delivered", "error_code": "0"}.values()
        )
        writer.writerow({**RECORD, "message_id": "3", "status": "", "total_price": ""}.values())
        handle.write("broken,row\n")
    assert main(["report", "--format", "json", str(path)]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert (data["receipts"], data["invalid"]) == (3, 1)
    assert data["by_action"] == {"remove_number": 1, "done": 1, "wait": 1}
    assert data["to_do"]["remove_sample"] == ["447700900000"]
    assert f"{path}:5:" in captured.err
