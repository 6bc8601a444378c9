"""Neighbouring formats: SMPP receipt text, Messages API status, Reports API records, Conversion."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import datetime, timezone
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
    MessageStatus,
    MissingFieldError,
    ReportRecord,
    SmppReceipt,
    classify,
    conversion_payload,
    normalize_smpp_id,
    parse_message_status,
    parse_report_record,
    parse_smpp_receipt,
    smpp_ids_match,
)
from dlrkit._cli import main
from dlrkit.testing import make_dlr
from dlrkit.testing import strategies as dlr_st

UTC = timezone.utc
CLASSIC = (
    "id:0123456789 sub:001 dlvrd:001 submit date:2011171547 done date:2011171548 "
    "stat:DELIVRD err:000 text:Your code is 1234"
)


# -- SMPP -----------------------------------------------------------------------------------


def test_smpp_classic_text() -> None:
    r = parse_smpp_receipt(CLASSIC)
    assert r == SmppReceipt(
        id="0123456789",
        stat="DELIVRD",
        status=DlrStatus.DELIVERED,
        err=0,
        submitted=1,
        delivered=1,
        submit_date=datetime(2020, 11, 17, 15, 47),
        done_date=datetime(2020, 11, 17, 15, 48),
        text="Your code is 1234",
    )
    assert r.dlr_status is DlrStatus.DELIVERED and r.error is ErrorCode.DELIVERED
    assert classify(r).action is Action.DONE and r.verdict == classify(r)
    assert parse_smpp_receipt(CLASSIC.encode()) == r


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", DlrStatus.DELIVERED),
        ("EXPIRED", DlrStatus.EXPIRED),
        ("DELETED", DlrStatus.FAILED),
        ("UNDELIV", DlrStatus.FAILED),
        ("REJECTD", DlrStatus.REJECTED),
        ("ACCEPTD", DlrStatus.ACCEPTED),
        ("UNKNOWN", DlrStatus.UNKNOWN),
        ("FAILED", DlrStatus.FAILED),
        ("DELIVERED", DlrStatus.DELIVERED),
        ("UNDELIVERABLE", DlrStatus.FAILED),
        ("rejected", DlrStatus.REJECTED),
        ("WEIRD", DlrStatus.UNKNOWN),
    ],
)
def test_smpp_stat_words(stat: str, status: DlrStatus) -> None:
    r = parse_smpp_receipt(f"id:1 stat:{stat} err:000")
    assert r.status is status and r.stat == stat


def test_smpp_variants_vendors_send() -> None:
    # Order and case vary, sub/dlvrd and text missing, 4-digit err, 12-digit dates.
    r = parse_smpp_receipt(
        "STAT:UNDELIV ERR:0002 Done_Date:201117154859 ID:a1B2 submit date:2011171547"
    )
    assert (r.id, r.status, r.err, r.error) == (
        "a1B2",
        DlrStatus.FAILED,
        2,
        ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY,
    )
    assert r.done_date == datetime(2020, 11, 17, 15, 48, 59)
    assert r.submitted is None and r.delivered is None and r.text is None
    assert classify(r).action is Action.RETRY


def test_smpp_text_keeps_everything_after_it() -> None:
    r = parse_smpp_receipt("id:1 stat:DELIVRD err:000 text:stat:FAILED err:999 id:2")
    assert r.text == "stat:FAILED err:999 id:2" and r.status is DlrStatus.DELIVERED and r.id == "1"


def test_smpp_odd_dates_and_counts_are_none() -> None:
    r = parse_smpp_receipt("id:1 sub:abc dlvrd:-1 submit date:9999999999 done date:12 stat:DELIVRD")
    assert (r.submitted, r.delivered, r.submit_date, r.done_date, r.err) == (None,) * 5


def test_smpp_tlvs_are_preferred_over_the_text() -> None:
    r = parse_smpp_receipt(
        "id:77 stat:UNDELIV err:003",
        receipted_message_id="4D",
        message_state=2,
        network_error_code=bytes([3, 0, 8]),
    )
    assert (r.id, r.status, r.err, r.network_error_code) == ("4D", DlrStatus.DELIVERED, 8, 8)
    assert parse_smpp_receipt("garbage", receipted_message_id="9", message_state=8).status is (
        DlrStatus.REJECTED
    )
    with pytest.raises(InvalidFieldError, match="message_state"):
        parse_smpp_receipt(CLASSIC, message_state=42)
    with pytest.raises(InvalidFieldError, match="3 bytes"):
        parse_smpp_receipt(CLASSIC, network_error_code=b"\x00")


@pytest.mark.parametrize("text", ["", "hello", "stat:DELIVRD err:000", "id:1 err:000", "id: stat:"])
def test_smpp_garbage_is_a_dlr_error(text: str) -> None:
    with pytest.raises(MissingFieldError):
        parse_smpp_receipt(text)


def test_smpp_limits() -> None:
    with pytest.raises(MalformedPayloadError, match="too long"):
        parse_smpp_receipt("id:1 stat:DELIVRD text:" + "x" * 5000)
    with pytest.raises(MalformedPayloadError):
        parse_smpp_receipt(12)  # type: ignore[arg-type]


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_smpp_raises_only_dlr_errors(text: str | bytes) -> None:
    with contextlib.suppress(DlrError):
        parse_smpp_receipt(text)


def test_smpp_id_helpers() -> None:
    assert normalize_smpp_id("0A1B", 16) == normalize_smpp_id("2587", 10) == "a1b"
    assert smpp_ids_match("0A1B", "2587") and smpp_ids_match("2587", "0a1b")
    assert smpp_ids_match("abc", "ABC") and not smpp_ids_match("abc", "xyz")
    with pytest.raises(ValueError):
        normalize_smpp_id("1", 8)
    with pytest.raises(InvalidFieldError):
        normalize_smpp_id("xyz", 16)


@given(dlr_st.smpp_receipt_texts())
def test_smpp_strategy_texts_parse(text: str) -> None:
    assert isinstance(parse_smpp_receipt(text), SmppReceipt)


# -- Messages API --------------------------------------------------------------------------

STATUS_WEBHOOK = {
    "message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    "to": "447700900000",
    "from": "447700900001",
    "timestamp": "2020-01-01T14:00:00.000Z",
    "status": "delivered",
    "channel": "sms",
    "client_ref": "abc123",
    "usage": {"currency": "EUR", "price": "0.0333"},
    "destination": {"network_code": "23410"},
    "sms": {"count_total": "2"},
}


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("submitted", DlrStatus.ACCEPTED),
        ("delivered", DlrStatus.DELIVERED),
        ("read", DlrStatus.DELIVERED),
        ("rejected", DlrStatus.REJECTED),
        ("undeliverable", DlrStatus.FAILED),
        ("something-new", DlrStatus.UNKNOWN),
    ],
)
def test_message_status_words(word: str, status: DlrStatus) -> None:
    m = parse_message_status({**STATUS_WEBHOOK, "status": word})
    assert m.status == word and m.dlr_status is status and m.err_code is None
    assert classify(m).reason


def test_message_status_fields() -> None:
    m = parse_message_status(json.dumps({**STATUS_WEBHOOK, "workflow_id": "w1"}).encode())
    assert m.timestamp == datetime(2020, 1, 1, 14, 0, tzinfo=UTC)
    assert (m.price, m.currency, m.network_code, m.count_total) == (
        Decimal("0.0333"),
        "EUR",
        "23410",
        2,
    )
    assert (m.from_, m.channel, m.client_ref) == ("447700900001", "sms", "abc123")
    assert m.extra == {"workflow_id": "w1"} and m.error is None


def test_message_status_error() -> None:
    m = parse_message_status(
        {
            **STATUS_WEBHOOK,
            "status": "rejected",
            "error": {
                "type": "https://developer.nexmo.com/api-errors/messages-olympus#1000",
                "title": "1000",
                "detail": "Throttled - You have exceeded the submission capacity",
                "instance": "bf0ca0bf-927b-3b52-e3ff-a3f2b6e4e2c1",
            },
        }
    )
    assert (
        m.error is not None and m.error.title == "1000" and m.error.detail.startswith("Throttled")
    )
    assert classify(m).action is Action.GIVE_UP and m.verdict.action is Action.GIVE_UP


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"message_uuid": None}, MissingFieldError),
        ({"status": ""}, MissingFieldError),
        ({"to": 5}, InvalidFieldError),
        ({"timestamp": "yesterday"}, InvalidFieldError),
        ({"usage": {"price": "free"}}, InvalidFieldError),
        ({"usage": "free"}, InvalidFieldError),
        ({"sms": {"count_total": "many"}}, InvalidFieldError),
    ],
)
def test_message_status_errors(change: dict[str, object], error: type[DlrError]) -> None:
    with pytest.raises(error):
        parse_message_status({**STATUS_WEBHOOK, **change})


@given(st.binary(max_size=200))
def test_message_status_raises_only_dlr_errors(body: bytes) -> None:
    with contextlib.suppress(DlrError):
        parse_message_status(body)


@given(dlr_st.message_statuses())
def test_message_status_strategy(body: bytes) -> None:
    assert isinstance(parse_message_status(body), MessageStatus)


# -- Reports API -----------------------------------------------------------------------------

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


def test_report_record_from_a_csv_row_and_json() -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(RECORD))
    writer.writeheader()
    writer.writerow(RECORD)
    row = next(csv.DictReader(io.StringIO(text.getvalue())))
    r = parse_report_record(row)
    assert r == parse_report_record(json.dumps(RECORD))
    assert (r.dlr_status, r.err_code, r.error) == (
        DlrStatus.FAILED,
        3,
        ErrorCode.ABSENT_SUBSCRIBER_PERMANENT,
    )
    assert r.client_ref is None and r.from_ == "Acme" and r.latency == 5000
    assert r.date_received == datetime(2020, 7, 17, 2, 34, 35, tzinfo=UTC)
    assert (r.network_code, r.price, r.msisdn) == ("23410", Decimal("0.03330000"), "447700900000")
    assert classify(r).action is Action.REMOVE_NUMBER and r.verdict.action is Action.REMOVE_NUMBER


def test_report_record_extra_and_errors() -> None:
    assert parse_report_record({"message_id": "m", "status": "DELIVERED", "x": "1"}).extra == {
        "x": "1"
    }
    assert parse_report_record({"message_id": "m", "status": "DELIVERED"}).dlr_status is (
        DlrStatus.DELIVERED
    )
    with pytest.raises(MissingFieldError):
        parse_report_record({"message_id": "m"})
    with pytest.raises(InvalidFieldError, match="latency"):
        parse_report_record({**RECORD, "latency": "slow"})
    with pytest.raises(MalformedPayloadError):
        parse_report_record("[1]")


@given(dlr_st.report_records())
def test_report_record_strategy(row: dict[str, str]) -> None:
    assert isinstance(parse_report_record(row), ReportRecord)


def test_dlrkit_report_reads_a_reports_api_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(RECORD))
        writer.writeheader()
        writer.writerow(RECORD)
        writer.writerow({**RECORD, "message_id": "2", "status": "delivered", "error_code": "0"})
        handle.write("broken,row\n")
    assert main(["report", "--format", "json", str(path)]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert (data["receipts"], data["invalid"]) == (2, 1)
    assert data["by_action"] == {"remove_number": 1, "done": 1}
    assert data["to_do"]["remove_sample"] == ["447700900000"]
    assert f"{path}:4:" in captured.err


# -- Conversion API ---------------------------------------------------------------------------


def test_conversion_payload() -> None:
    receipt = make_dlr()
    assert conversion_payload(receipt, True) == {
        "message-id": "0B00000127FDBC63",
        "delivered": "true",
        "timestamp": "2018-10-25 12:10:29",
    }
    at = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc).astimezone()
    assert conversion_payload("abc", False, at)["timestamp"] == "2026-11-20 13:00:00"
    assert conversion_payload("abc", False)["delivered"] == "false"
    with pytest.raises(ValueError):
        conversion_payload("", True)
