"""dlrkit.smpp: SMPP receipt text, its TLVs, and the variants vendors send."""

from __future__ import annotations

import contextlib
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlrkit import (
    Action,
    DlrError,
    DlrStatus,
    ErrorCode,
    InvalidFieldError,
    Limits,
    MalformedPayloadError,
    MissingFieldError,
    classify,
)
from dlrkit._codecs import UTC
from dlrkit.smpp import SmppReceipt, normalize_smpp_id, parse_smpp_receipt, smpp_ids_match
from dlrkit.testing import strategies as dlr_st

CLASSIC = (
    "id:0123456789 sub:001 dlvrd:001 submit date:2011171547 done date:2011171548 "
    "stat:DELIVRD err:000 text:Your code is 1234"
)


def test_smpp_classic_text() -> None:
    r = parse_smpp_receipt(CLASSIC)
    assert r == SmppReceipt(
        id="0123456789",
        stat="DELIVRD",
        status=DlrStatus.DELIVERED,
        err="000",
        err_code=0,
        submitted=1,
        delivered=1,
        submit_date=datetime(2020, 11, 17, 15, 47),
        done_date=datetime(2020, 11, 17, 15, 48),
        text="Your code is 1234",
    )
    assert r.error is ErrorCode.DELIVERED
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
    assert (r.id, r.status, r.err, r.err_code, r.error) == (
        "a1B2",
        DlrStatus.FAILED,
        "0002",
        2,
        ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY,
    )
    assert r.done_date == datetime(2020, 11, 17, 15, 48, 59)
    assert r.submitted is None and r.delivered is None and r.text is None
    assert classify(r).action is Action.RETRY


def test_smpp_text_keeps_the_keys_already_read() -> None:
    r = parse_smpp_receipt("id:1 stat:DELIVRD err:000 text:stat:FAILED err:999 id:2")
    assert r.text == "stat:FAILED err:999 id:2" and r.status is DlrStatus.DELIVERED and r.id == "1"


def test_smpp_text_may_come_before_stat() -> None:
    # Seen in SMPP library tests: keys in any order, text: included.
    r = parse_smpp_receipt("id:7 sub:001 dlvrd:001 text:Hello world stat:DELIVRD err:000")
    assert (r.text, r.status, r.err_code) == ("Hello world", DlrStatus.DELIVERED, 0)
    r = parse_smpp_receipt("text:hi id:8 stat:UNDELIV err:001")
    assert (r.id, r.text, r.status) == ("8", "hi", DlrStatus.FAILED)


def test_smpp_repeated_key_keeps_the_first_value() -> None:
    r = parse_smpp_receipt("id:1 stat:DELIVRD id:2 err:000")
    assert (r.id, r.stat) == ("1", "DELIVRD")


def test_smpp_trailing_nul_of_message_payload() -> None:
    r = parse_smpp_receipt("id:42 stat:DELIVRD err:000\x00")
    assert (r.err, r.err_code, r.stat) == ("000", 0, "DELIVRD")
    assert parse_smpp_receipt(b"id:42 stat:DELIVRD err:000\x00\x00") == r
    with pytest.raises(MalformedPayloadError, match="NUL"):
        parse_smpp_receipt("id:42 stat:DELIV\x00RD err:000")


def test_smpp_non_numeric_err_is_kept() -> None:
    r = parse_smpp_receipt("id:1 stat:UNDELIV err:21b")
    assert (r.err, r.err_code, r.error) == ("21b", None, None)
    assert classify(r).action is Action.GIVE_UP  # no code: "no reason could be determined"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2011171547", datetime(2020, 11, 17, 15, 47)),  # YYMMDDhhmm
        ("201117154759", datetime(2020, 11, 17, 15, 47, 59)),  # YYMMDDhhmmss
        ("20110314181534", datetime(2011, 3, 14, 18, 15, 34)),  # YYYYMMDDhhmmss
        ("201506201641", datetime(2015, 6, 20, 16, 41)),  # YYYYMMDDhhmm
        ("180711070003912+", datetime(2018, 7, 11, 4, 0, 3, 900000, tzinfo=UTC)),  # absolute
    ],
)
def test_smpp_every_date_form(date: str, expected: datetime) -> None:
    r = parse_smpp_receipt(f"id:1 submit date:{date} done date:{date} stat:DELIVRD")
    assert r.submit_date == r.done_date == expected


def test_smpp_ambiguous_dates_take_the_reading_closest_to_the_other_date() -> None:
    # "200101010101" is 2020-01-01 01:01:01 (YYMMDDhhmmss) or 2001-01-01 01:01 (YYYYMMDDhhmm).
    near_2001 = parse_smpp_receipt(
        "id:1 submit date:200101010101 done date:20010101010500 stat:DELIVRD"
    )
    assert near_2001.submit_date == datetime(2001, 1, 1, 1, 1)
    near_2020 = parse_smpp_receipt(
        "id:1 submit date:200101010101 done date:2001010102 stat:DELIVRD"
    )
    assert near_2020.submit_date == datetime(2020, 1, 1, 1, 1, 1)
    # Nothing to compare with: YYMMDDhhmmss, the commoner form.
    alone = parse_smpp_receipt("id:1 submit date:200101010101 stat:DELIVRD")
    assert alone.submit_date == datetime(2020, 1, 1, 1, 1, 1)


def test_smpp_odd_dates_and_counts_are_none() -> None:
    r = parse_smpp_receipt("id:1 sub:abc dlvrd:-1 submit date:9999999999 done date:12 stat:DELIVRD")
    assert (r.submitted, r.delivered, r.submit_date, r.done_date, r.err_code) == (None,) * 5


def test_smpp_tlvs_are_preferred_over_the_text() -> None:
    r = parse_smpp_receipt(
        "id:77 stat:UNDELIV err:003",
        receipted_message_id="4D",
        message_state=2,
        network_error_code=bytes([3, 0, 8]),
    )
    assert (r.id, r.status, r.err_code, r.network_error_code) == ("4D", DlrStatus.DELIVERED, 8, 8)
    assert r.err == "003"  # the text's word is kept
    assert parse_smpp_receipt("garbage", receipted_message_id="9", message_state=8).status is (
        DlrStatus.REJECTED
    )
    with pytest.raises(InvalidFieldError, match="message_state"):
        parse_smpp_receipt(CLASSIC, message_state=42)
    with pytest.raises(InvalidFieldError, match="receipted_message_id"):
        parse_smpp_receipt(CLASSIC, receipted_message_id="4D\x00")


@pytest.mark.parametrize("tlv", [b"000", b"003", b"\x00", b"\x00\x00\x08", b"\x04\x00\x08", b""])
def test_smpp_network_error_code_that_is_not_binary_falls_back_to_the_text(tlv: bytes) -> None:
    # Some SMSCs send the TLV as ASCII text: b"000" is not error 12336.
    r = parse_smpp_receipt("id:1 stat:UNDELIV err:002", network_error_code=tlv)
    assert (r.err_code, r.network_error_code) == (2, None)


def test_smpp_network_error_code_of_the_wrong_type() -> None:
    with pytest.raises(InvalidFieldError, match="network_error_code"):
        parse_smpp_receipt(CLASSIC, network_error_code="000")  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError, match="network_error_code"):
        parse_smpp_receipt(CLASSIC, network_error_code=70_000)


def test_smpp_ucs2_receipts() -> None:
    text = "id:9 stat:DELIVRD err:000 text:Grüße €"
    r = parse_smpp_receipt(text.encode("utf-16-be"), data_coding=8)
    assert (r.id, r.status, r.text) == ("9", DlrStatus.DELIVERED, "Grüße €")
    # Without data_coding: UCS-2 is recognised by its leading NUL, or a byte order mark.
    assert parse_smpp_receipt(text.encode("utf-16-be")) == r
    assert parse_smpp_receipt(b"\xfe\xff" + text.encode("utf-16-be")) == r
    with pytest.raises(MalformedPayloadError, match="UCS-2"):
        parse_smpp_receipt(text.encode("utf-16-be")[:-1], data_coding=8)  # odd length
    with pytest.raises(MalformedPayloadError, match="UCS-2"):
        parse_smpp_receipt("id:1 stat:x".encode("utf-16-be") + b"\xd8\x00", data_coding=8)
    with pytest.raises(InvalidFieldError, match="data_coding"):
        parse_smpp_receipt(b"id:1 stat:DELIVRD", data_coding=300)
    # Latin-1 (data_coding 3) and the SMSC default (0) keep the ASCII keys.
    assert parse_smpp_receipt("id:1 stat:DELIVRD text:é".encode("latin-1"), data_coding=3).text == (
        "é"
    )


@pytest.mark.parametrize("text", ["", "hello", "stat:DELIVRD err:000", "id:1 err:000", "id: stat:"])
def test_smpp_garbage_is_a_dlr_error(text: str) -> None:
    with pytest.raises(MissingFieldError):
        parse_smpp_receipt(text)


def test_smpp_limits() -> None:
    with pytest.raises(InvalidFieldError, match="longer than 4096") as info:
        parse_smpp_receipt("id:1 stat:DELIVRD text:" + "x" * 5000)
    assert info.value.field == "text"
    with pytest.raises(MalformedPayloadError, match="too long"):
        parse_smpp_receipt("id:1 stat:DELIVRD text:" + "x" * 70_000)
    with pytest.raises(MalformedPayloadError, match="too long"):
        parse_smpp_receipt(b"id:1 stat:DELIVRD", limits=Limits(max_size=10))
    with pytest.raises(MalformedPayloadError):
        parse_smpp_receipt(12)  # type: ignore[arg-type]


@given(st.text(max_size=200) | st.binary(max_size=200), st.sampled_from([None, 0, 3, 8]))
def test_smpp_raises_only_dlr_errors(text: str | bytes, data_coding: int | None) -> None:
    with contextlib.suppress(DlrError):
        parse_smpp_receipt(text, data_coding=data_coding)


def test_smpp_id_helpers() -> None:
    assert normalize_smpp_id("0A1B", 16) == normalize_smpp_id("2587", 10) == "a1b"
    assert smpp_ids_match("0A1B", "2587") and smpp_ids_match("2587", "0a1b")
    assert smpp_ids_match("abc", "ABC") and not smpp_ids_match("abc", "xyz")
    with pytest.raises(ValueError):
        normalize_smpp_id("1", 8)
    with pytest.raises(InvalidFieldError):
        normalize_smpp_id("xyz", 16)


@pytest.mark.parametrize("bad", ["١٢", "1_000", "+7", "9" * 5000, "", " "])
def test_smpp_ids_are_ascii_digits_of_a_bounded_length(bad: str) -> None:
    with pytest.raises(InvalidFieldError):
        normalize_smpp_id(bad, 10)
    assert not smpp_ids_match(bad, "12") or bad.strip() == "12"


@given(dlr_st.smpp_receipt_texts())
def test_smpp_strategy_texts_parse(text: str) -> None:
    r = parse_smpp_receipt(text)
    assert isinstance(r, SmppReceipt)
    if r.err is not None and r.err.isdigit():
        assert r.err_code == int(r.err)
