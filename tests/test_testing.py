"""dlrkit.testing: strategies, st.from_type registration, the pytest plugin's fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlrkit import (
    DeliveryReceipt,
    DlrError,
    DlrStatus,
    ErrorCode,
    MessageState,
    SendResponse,
    SentPart,
    Verdict,
    parse,
    parse_form,
    parse_json,
    parse_query,
    parse_request,
    verify_signature,
)
from dlrkit.messages_api import MessageError, MessageStatus
from dlrkit.reports_api import ReportRecord
from dlrkit.smpp import SmppReceipt
from dlrkit.testing import make_dlr as plain_make_dlr
from dlrkit.testing import strategies as dlr_st

PARSERS = {"query": parse_query, "form": parse_form, "json": parse_json}


@given(dlr_st.receipts())
def test_receipts_are_what_the_parser_makes(receipt: DeliveryReceipt) -> None:
    assert parse(receipt.to_wire()) == receipt


@given(dlr_st.receipts(status=DlrStatus.FAILED, err_code=st.sampled_from([2, 7])))
def test_receipts_narrowed(receipt: DeliveryReceipt) -> None:
    assert receipt.status is DlrStatus.FAILED
    assert receipt.error in (ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY, ErrorCode.HANDSET_BUSY)


@given(dlr_st.receipts(price=None, client_ref="order-1", extra=False))
def test_receipts_narrowed_to_absent_and_fixed_values(receipt: DeliveryReceipt) -> None:
    assert receipt.price is None
    assert receipt.client_ref == "order-1"
    assert receipt.extra == {}


@given(dlr_st.receipts(signed=True))
def test_signed_receipts_verify_with_the_strategy_secret(receipt: DeliveryReceipt) -> None:
    assert receipt.sig and receipt.nonce and receipt.timestamp
    verify_signature(receipt.to_wire(), dlr_st.SECRET, dlr_st.SIGNATURE_METHOD, max_age=None)


def test_unknown_narrowing_names_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown receipt field 'colour'"):
        dlr_st.receipts(colour="blue")
    with pytest.raises(ValueError, match="unknown encoding"):
        dlr_st.wire_payloads("xml")  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
@given(data=st.data())
def test_wire_payloads_parse(encoding: str, data: st.DataObject) -> None:
    payload = data.draw(dlr_st.wire_payloads(encoding))  # type: ignore[arg-type]
    assert isinstance(PARSERS[encoding](payload), DeliveryReceipt)


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
@given(data=st.data())
def test_malformed_payloads_are_refused(encoding: str, data: st.DataObject) -> None:
    payload = data.draw(dlr_st.malformed_payloads(encoding))  # type: ignore[arg-type]
    with pytest.raises(DlrError):
        PARSERS[encoding](payload)


@given(dlr_st.send_responses())
def test_send_responses_are_consistent(body: bytes) -> None:
    response = json.loads(body)
    assert int(response["message-count"]) == len(response["messages"]) >= 1
    for part in response["messages"]:
        if part["status"] == "0":
            assert Decimal(part["message-price"]) > 0 and "error-text" not in part
        else:
            assert "error-text" in part and "message-price" not in part


@given(dlr_st.multipart_messages(complete=True))
def test_multipart_messages(message: tuple[bytes, list[DeliveryReceipt]]) -> None:
    body, receipts = message
    ids = {part["message-id"] for part in json.loads(body)["messages"]}
    assert {r.message_id for r in receipts} == ids  # complete: every part has a receipt
    finals = {r.message_id for r in receipts if r.is_final}
    assert finals == ids
    assert len({r.msisdn for r in receipts}) == 1


@given(dlr_st.receipt_sequences(complete=False))
def test_incomplete_sequences_have_no_final_receipts(receipts: list[DeliveryReceipt]) -> None:
    assert not any(r.is_final for r in receipts)


@given(st.from_type(DeliveryReceipt), st.from_type(Verdict))
def test_from_type_is_registered(receipt: DeliveryReceipt, verdict: Verdict) -> None:
    assert isinstance(receipt, DeliveryReceipt) and parse(receipt.to_wire()) == receipt
    assert isinstance(verdict, Verdict) and verdict.reason


@given(st.from_type(SendResponse), st.from_type(SentPart))
def test_from_type_send_responses_are_consistent(response: SendResponse, part: SentPart) -> None:
    # Not attrs' guess from the annotations: what the API really answers.
    assert response.message_count == len(response.messages) >= 1
    assert all(p.message_id for p in response.messages if p.is_sent)
    assert isinstance(part, SentPart) and (part.message_id or not part.is_sent)


@given(st.from_type(MessageState))
def test_from_type_message_states_are_tracked_states(state: MessageState) -> None:
    assert state.parts and state.key in state.parts
    statuses = {r.status for r in state.parts.values() if r is not None}
    if state.is_delivered:
        assert statuses == {DlrStatus.DELIVERED} and None not in state.parts.values()
    assert state.verdict.action is not None


@given(
    st.from_type(SmppReceipt),
    st.from_type(MessageStatus),
    st.from_type(MessageError),
    st.from_type(ReportRecord),
)
def test_from_type_covers_the_other_formats(
    smpp: SmppReceipt, status: MessageStatus, error: MessageError, record: ReportRecord
) -> None:
    assert isinstance(smpp.status, DlrStatus) and smpp.id
    assert isinstance(status.status, DlrStatus) and status.wire_status
    assert isinstance(error, MessageError) and error.title
    assert isinstance(record.status, DlrStatus) and record.message_id
    assert (record.wire_status is None) == (not record.status.is_final and record.price is None)


# -- the fixtures (no conftest defines them: the pytest11 entry point does) ---------------------


def test_make_dlr_default_is_the_guide_sample(make_dlr: Callable[..., DeliveryReceipt]) -> None:
    r = make_dlr()
    assert r.status is DlrStatus.DELIVERED and r.err_code == 0
    assert r.message_id == "0B00000127FDBC63" and r.price == Decimal("0.03330000")
    assert make_dlr is plain_make_dlr


def test_make_dlr_overrides(make_dlr: Callable[..., DeliveryReceipt]) -> None:
    r = make_dlr(
        status="failed", err_code=2, price=Decimal("0.05"), scts=None, extra={"campaign": "spring"}
    )
    assert (r.status, r.error, r.price, r.scts) == (
        DlrStatus.FAILED,
        ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY,
        Decimal("0.05"),
        None,
    )
    assert r.extra == {"campaign": "spring"}
    assert make_dlr(status=DlrStatus.REJECTED).status is DlrStatus.REJECTED
    assert make_dlr(err_code="000").to_wire()["err-code"] == "000"
    with pytest.raises(TypeError, match="unknown field 'colour'"):
        make_dlr(colour="blue")
    with pytest.raises(DlrError):
        make_dlr(msisdn=None)  # required: the parser says so


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_make_dlr_payload(encoding: str, make_dlr_payload: Callable[..., bytes]) -> None:
    payload = make_dlr_payload(encoding, status="failed", err_code=7)
    r = PARSERS[encoding](payload)
    assert r.status is DlrStatus.FAILED and r.err_code == 7
    signed = PARSERS[encoding](make_dlr_payload(encoding, secret="s3cret"))
    verify_signature(signed.to_wire(), "s3cret", "sha256")  # fresh timestamp: in the window
    with pytest.raises(ValueError, match="unknown encoding"):
        make_dlr_payload("xml")


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_make_dlr_request(encoding: str, make_dlr_request: Callable[..., dict[str, Any]]) -> None:
    request = make_dlr_request(encoding, secret="s3cret", signature_method="md5hash", to="Acme")
    r = parse_request(**request, secret="s3cret", signature_method="md5hash")
    assert r.to == "Acme"


def test_a_users_test_file_needs_no_dlrkit_import(tmp_path: Path) -> None:
    """What a user writes: fixtures and st.from_type, no import of dlrkit.testing."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            from hypothesis import given, strategies as st
            import dlrkit

            @given(st.from_type(dlrkit.DeliveryReceipt))
            def test_handler(receipt):
                assert dlrkit.classify(receipt).reason

            def test_fixture(make_dlr, make_dlr_payload):
                assert make_dlr(status="failed").status is dlrkit.DlrStatus.FAILED
                assert dlrkit.parse_json(make_dlr_payload("json")).is_delivered
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
