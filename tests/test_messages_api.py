"""dlrkit.messages_api: the Messages API's status webhook."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlrkit import (
    Action,
    DlrError,
    DlrStatus,
    InvalidFieldError,
    Limits,
    MalformedPayloadError,
    MissingFieldError,
    classify,
)
from dlrkit._codecs import UTC
from dlrkit.messages_api import MessageError, MessageStatus, parse_message_status
from dlrkit.testing import strategies as dlr_st

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
    assert m.wire_status == word and m.status is status and m.err_code is None
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


def test_message_status_keeps_unknown_fields_frozen_and_whole() -> None:
    body = {
        **STATUS_WEBHOOK,
        "workflow": {"id": "w1", "steps": [1, {"a": None}]},
        "usage": {"currency": "EUR", "price": "0.0333", "tax": "0.01"},
    }
    m = parse_message_status(body)
    assert m.extra == {
        "workflow": {"id": "w1", "steps": ("1", {"a": None})},
        "usage": {"tax": "0.01"},  # the nested object's unknown field, under its name
    }
    with pytest.raises(TypeError):
        m.extra["workflow"]["id"] = "changed"  # type: ignore[index]
    hash(m.extra["workflow"])


def test_message_status_error() -> None:
    m = parse_message_status(
        {
            **STATUS_WEBHOOK,
            "status": "rejected",
            "error": {
                "type": "https://developer.nexmo.com/api-errors/messages-olympus#1000",
                "title": 1000,  # a number, as some channels send it
                "detail": "Throttled - You have exceeded the submission capacity",
                "instance": "bf0ca0bf-927b-3b52-e3ff-a3f2b6e4e2c1",
            },
        }
    )
    assert m.error is not None and m.error.title == "1000"
    assert m.error.detail is not None and m.error.detail.startswith("Throttled")
    assert classify(m).action is Action.GIVE_UP and m.verdict.action is Action.GIVE_UP


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"message_uuid": None}, MissingFieldError, "message_uuid"),
        ({"status": ""}, MissingFieldError, "status"),
        ({"to": 5.5}, InvalidFieldError, "to"),
        ({"to": True}, InvalidFieldError, "to"),
        ({"to": {"number": "447700900000"}}, InvalidFieldError, "to"),
        ({"timestamp": "yesterday"}, InvalidFieldError, "timestamp"),
        ({"timestamp": "0001-01-01T00:00:00+05:00"}, InvalidFieldError, "timestamp"),
        ({"usage": {"price": "free"}}, InvalidFieldError, "usage.price"),
        ({"usage": {"price": "²"}}, InvalidFieldError, "usage.price"),
        ({"usage": {"price": "1E+999999999"}}, InvalidFieldError, "usage.price"),
        ({"usage": {"currency": 978.0}}, InvalidFieldError, "usage.currency"),
        ({"usage": "free"}, InvalidFieldError, "usage"),
        ({"sms": {"count_total": "many"}}, InvalidFieldError, "sms.count_total"),
        ({"sms": {"count_total": "١٢"}}, InvalidFieldError, "sms.count_total"),
        ({"sms": {"count_total": 10**5000}}, InvalidFieldError, "sms.count_total"),
        ({"error": {"title": ["a", "b"]}}, InvalidFieldError, "error.title"),
        ({"error": "broken"}, InvalidFieldError, "error"),
        ({"client_ref": "a\x00b"}, InvalidFieldError, "client_ref"),
        ({"client_ref": "\ud800"}, InvalidFieldError, "client_ref"),
        ({5: "x"}, InvalidFieldError, "5"),
        ({b"k": "x"}, InvalidFieldError, "b'k'"),
    ],
)
def test_message_status_errors(
    change: dict[object, object], error: type[DlrError], field: str
) -> None:
    with pytest.raises(error) as info:
        parse_message_status({**STATUS_WEBHOOK, **change})  # type: ignore[dict-item]
    assert info.value.field == field


def test_message_status_limits() -> None:
    body = json.dumps({**STATUS_WEBHOOK, "client_ref": "x" * 5000})
    with pytest.raises(InvalidFieldError, match="longer than 4096"):
        parse_message_status(body)
    with pytest.raises(MalformedPayloadError, match="over the limit"):
        parse_message_status(json.dumps(STATUS_WEBHOOK), limits=Limits(max_size=100))
    deep: object = "x"
    for _ in range(40):
        deep = {"a": deep}
    with pytest.raises(MalformedPayloadError, match="levels deep"):
        parse_message_status({**STATUS_WEBHOOK, "deep": deep})


@given(st.binary(max_size=200))
def test_message_status_raises_only_dlr_errors(body: bytes) -> None:
    with contextlib.suppress(DlrError):
        parse_message_status(body)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from([*STATUS_WEBHOOK, "x"]), JSON_VALUES))
def test_message_status_mappings_raise_only_dlr_errors(changes: dict[str, object]) -> None:
    with contextlib.suppress(DlrError):
        parse_message_status({**STATUS_WEBHOOK, **changes})


@given(dlr_st.message_statuses())
def test_message_status_strategy(body: bytes) -> None:
    m = parse_message_status(body)
    assert isinstance(m, MessageStatus)
    assert isinstance(m.error, (MessageError, type(None)))
