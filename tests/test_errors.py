"""DlrError: every problem of a payload is reported, in one line, and survives pickling."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dlrkit
from dlrkit import DlrError, InvalidFieldError, MissingFieldError
from dlrkit._errors import Problem
from dlrkit.messages_api import parse_message_status
from dlrkit.testing.strategies import wire_fields


def test_the_issue_example_reports_both_problems() -> None:
    body = '{"messageId":"x","msisdn":"1","status":"failed","err-code":"zero"}'
    with pytest.raises(InvalidFieldError) as info:
        dlrkit.parse_json(body)
    error = info.value
    assert [p.field for p in error.problems] == ["err-code", "to"]
    assert error.problems[1] == Problem("to", None, "missing")
    assert str(error) == (
        "invalid 'err-code' 'zero': expected a non-negative integer (and 1 more problem)"
    )
    assert (error.field, error.value, error.http_status) == ("err-code", "zero", 400)


# A broken value for each field that has a codec, and what is wrong with it.
BREAKS = {
    "err-code": "zero",
    "price": "cheap",
    "message-timestamp": "yesterday",
    "timestamp": "soon",
    "messageId": "",
    "msisdn": "null",
}


@given(wire_fields(signed=False), st.sets(st.sampled_from(sorted(BREAKS)), min_size=1))
def test_every_broken_field_is_a_problem(fields: dict[str, str], broken: set[str]) -> None:
    for name in broken:
        fields[name] = BREAKS[name]
    for parse in (dlrkit.parse, lambda f: dlrkit.parse_json(json.dumps(f))):
        with pytest.raises(DlrError) as info:
            parse(fields)
        error = info.value
        assert {p.field for p in error.problems} == broken
        assert "\n" not in str(error)
        more = len(broken) - 1
        assert (
            str(error).endswith(f"(and {more} more problem{'s' if more > 1 else ''})") or not more
        )
        assert error.field == error.problems[0].field


def test_missing_required_fields_are_all_listed_once() -> None:
    with pytest.raises(MissingFieldError) as info:
        dlrkit.parse({"status": "delivered"})
    assert [p.field for p in info.value.problems] == ["messageId", "msisdn", "to", "err-code"]


def test_strict_status_is_one_of_the_problems() -> None:
    with pytest.raises(DlrError) as info:
        dlrkit.parse({"messageId": "m", "msisdn": "1", "to": "x", "status": "DELIVRD",
                      "err-code": "x"}, strict=True)  # fmt: skip
    assert [p.field for p in info.value.problems] == ["status", "err-code"]


def test_nested_problems_are_listed_with_their_paths() -> None:
    with pytest.raises(DlrError) as info:
        parse_message_status({"message_uuid": "u", "to": "1", "status": "x",
                              "usage": {"price": "free"}, "sms": {"count_total": "many"},
                              "timestamp": "never"})  # fmt: skip
    assert {p.field for p in info.value.problems} == {"usage.price", "sms.count_total", "timestamp"}


def test_problems_survive_pickling() -> None:
    with pytest.raises(DlrError) as info:
        dlrkit.parse({"messageId": "m", "status": "delivered", "err-code": "x"})
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.problems == info.value.problems and str(copy) == str(info.value)
    assert type(copy) is type(info.value) and copy.http_status == 400


def test_a_single_problem_reads_as_before() -> None:
    with pytest.raises(InvalidFieldError) as info:
        dlrkit.parse({"messageId": "m", "msisdn": "1", "to": "x", "status": "failed",
                      "err-code": "two"})  # fmt: skip
    assert str(info.value) == "invalid 'err-code' 'two': expected a non-negative integer"
    assert info.value.problems == (Problem("err-code", "two", "expected a non-negative integer"),)
