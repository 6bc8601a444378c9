"""Regressions from the outside review of the codec layer (issue 14), one test each."""

from __future__ import annotations

import contextlib
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlrkit
import dlrkit.wire
from dlrkit import DlrError, DlrStatus, InvalidFieldError, MalformedPayloadError
from dlrkit.messages_api import parse_message_status
from dlrkit.reports_api import parse_report_record
from dlrkit.smpp import normalize_smpp_id, parse_smpp_receipt, smpp_ids_match

BASE = {"messageId": "A1", "msisdn": "1", "to": "x", "status": "delivered", "err-code": "0"}
STATUS = {"message_uuid": "u", "to": "1", "status": "delivered"}


def send_response(price: str) -> str:
    return (
        '{"message-count":"1","messages":[{"message-id":"A1","status":"0",'
        f'"message-price":"{price}"}}]}}'
    )


@pytest.mark.parametrize("price", ["0.1e-99", "548924.97681773870629152e-24", "10e99"])
def test_a_price_the_parser_accepts_loads_again_from_a_store(price: str) -> None:
    # str(Decimal("0.1e-99")) is "1E-100", which the price grammar refused on reload.
    try:
        response = dlrkit.parse_send_response(send_response(price))
    except DlrError:
        return  # refused up front: nothing can be stored
    with tempfile.TemporaryDirectory() as directory:
        tracker = dlrkit.Tracker(dlrkit.SQLiteStore(f"{directory}/t.db"))
        tracker.expect(response)
        state = tracker.add(dlrkit.parse(BASE))
        assert state is not None and tracker.get("A1") == state


@given(st.from_regex(r"\A[0-9]{1,20}(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,2})?\Z"))
def test_every_accepted_price_survives_a_store(price: str) -> None:
    with contextlib.suppress(DlrError):
        response = dlrkit.parse_send_response(send_response(price))
        record = dlrkit.stores.MessageRecord(
            key="A1", parts={"A1": None}, prices={"A1": response.messages[0].message_price},
            created=0.0, updated=0.0,
        )  # fmt: skip
        assert dlrkit.stores.MessageRecord.from_text(record.to_text()) == record


@pytest.mark.parametrize("value", [[["\ud800"]], [["\x00"]], [["a" * 5000]], [("\x00",)], [[]]])
def test_nested_lists_are_refused_not_accepted_unchecked(value: object) -> None:
    for field in ("x", "to"):
        with pytest.raises(InvalidFieldError):
            dlrkit.parse({**BASE, field: value})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "word", ["DELIVERY_FAILED", "delivery_unknown", "Delivering", "deliverable", "DELIVERX"]
)
def test_only_whole_status_words_are_read(word: str) -> None:
    receipt = dlrkit.parse({**BASE, "status": word})
    assert receipt.status is DlrStatus.UNKNOWN and receipt.to_wire()["status"] == word
    assert parse_smpp_receipt(f"id:1 stat:{word}").status is DlrStatus.UNKNOWN


def test_shared_nested_values_cost_bounded_work() -> None:
    # A list that holds itself 22 times over is 4 million leaves: 8.5 s.
    value: object = "v"
    for _ in range(22):
        value = [value, value]
    started = time.perf_counter()
    with pytest.raises(MalformedPayloadError, match="too many items"):
        parse_message_status({**STATUS, "x": value})
    assert time.perf_counter() - started < 1.0


def test_nested_objects_hold_at_most_max_fields() -> None:
    wide = {f"k{i}": "v" for i in range(100)}
    with pytest.raises(MalformedPayloadError, match="more than 64 fields"):
        parse_message_status({**STATUS, "x": wide})
    import json

    with pytest.raises(MalformedPayloadError, match="more than 64 fields"):
        parse_message_status(json.dumps({**STATUS, "x": wide}))


@pytest.mark.parametrize(
    "key",
    ["\ud800", "a\x00b", "k" * 5000, 5, 10**5000],
    ids=["surrogate", "nul", "long", "int", "huge-int"],
)
def test_nested_keys_of_a_callers_mapping_are_checked(key: object) -> None:
    for parser, document in (
        (parse_message_status, {**STATUS, "x": {key: "v"}}),
        (parse_report_record, {"message_id": "m", "x": {key: "v"}}),
    ):
        with pytest.raises(DlrError):
            parser(document)  # type: ignore[operator]


def test_a_huge_int_key_is_a_dlr_error() -> None:
    key = 10**5000
    for call in (
        lambda: dlrkit.parse({**BASE, key: "x"}),  # type: ignore[dict-item]
        lambda: dlrkit.wire.decode_fields({**BASE, key: "x"}),  # type: ignore[dict-item]
        lambda: dlrkit.signing_string({**BASE, key: "x"}),  # type: ignore[dict-item]
        lambda: dlrkit.verify_signature({**BASE, key: "x", "sig": "0"}, "s", "sha256"),  # type: ignore[dict-item]
        lambda: parse_message_status({**STATUS, key: "x"}),
    ):
        with pytest.raises(DlrError):
            call()


def test_depth_is_the_same_for_mappings_and_json_text() -> None:
    import json

    deep: object = "v"
    for _ in range(32):  # the document is level 1: its 33rd level of objects
        deep = {"a": deep}
    for document in ({**STATUS, "x": deep}, json.dumps({**STATUS, "x": deep})):
        with pytest.raises(MalformedPayloadError, match="32 levels"):
            parse_message_status(document)  # type: ignore[arg-type]
    shallower = deep["a"]  # type: ignore[index]
    for document in ({**STATUS, "x": shallower}, json.dumps({**STATUS, "x": shallower})):
        parse_message_status(document)  # type: ignore[arg-type]


def test_programming_slips_in_arguments_are_dlr_errors_or_clear() -> None:
    assert dlrkit.parse_form(urlencode(BASE).encode(), charset=None).message_id == "A1"
    with pytest.raises(InvalidFieldError, match="message_state"):
        parse_smpp_receipt("id:1 stat:DELIVRD", message_state=[])  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError):
        normalize_smpp_id(5, 10)  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError):
        smpp_ids_match(None, "1")  # type: ignore[arg-type]
    with pytest.raises(dlrkit.SignatureError) as info:
        dlrkit.verify_signature("x", "s", "sha256")  # type: ignore[arg-type]
    assert info.value.reason is dlrkit.SignatureFailure.MALFORMED
    with pytest.raises(DlrError, match="lone surrogate"):
        dlrkit.sign({"a": "\ud800"}, "s", "sha256")


def test_tlv_ids_are_text() -> None:
    assert parse_smpp_receipt("id:1 stat:DELIVRD", receipted_message_id="4D").id == "4D"
    assert parse_smpp_receipt("id:1 stat:DELIVRD", receipted_message_id=5).id == "5"  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError):
        parse_smpp_receipt("id:1 stat:DELIVRD", receipted_message_id=object())  # type: ignore[arg-type]


def test_an_iso_timestamp_on_a_signed_request_is_read_for_the_window() -> None:
    # REFERENCE.md: timestamp has been seen as ISO 8601 text; parse() read it, the window did not.
    fields = {**BASE, "timestamp": "2020-07-17T02:34:35Z", "nonce": "n"}
    fields["sig"] = dlrkit.sign(fields, "secret", "sha256")
    now = datetime(2020, 7, 17, 2, 36, tzinfo=timezone.utc)
    dlrkit.verify_signature(fields, "secret", "sha256", now=now)
    with pytest.raises(dlrkit.SignatureError) as info:
        dlrkit.verify_signature(fields, "secret", "sha256", now=now.replace(hour=3))
    assert info.value.reason is dlrkit.SignatureFailure.EXPIRED


def test_any_sum_of_parsed_prices_is_exact() -> None:
    body = (
        '{"message-count":"2","messages":['
        '{"message-id":"a","status":"0","message-price":"12345678901234567890.12345678901234567890"},'
        '{"message-id":"b","status":"0","message-price":"0.00000000000000000001"}]}'
    )
    total = dlrkit.parse_send_response(body).total_price
    assert total == Decimal("12345678901234567890.12345678901234567891")


def test_plausible_input_that_was_refused() -> None:
    query = "?" + urlencode(BASE)
    assert dlrkit.parse_request(method="GET", content_type=None, query=query).message_id == "A1"
    text = "id:1 stat:DELIVRD err:000 text:hi"
    assert parse_smpp_receipt(b"\xff\xfe" + text.encode("utf-16-le")).text == "hi"
    gsm = parse_smpp_receipt(b"id:1 stat:DELIVRD text:Meet \x00 5\x00", data_coding=0)
    assert gsm.text == "Meet @ 5"
    assert parse_smpp_receipt("id:1 stat:ENROUTE", message_state=0).status is DlrStatus.ACCEPTED
