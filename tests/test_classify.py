"""Classification: every code and status to an action, policies, back-off, `explain`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlrkit import (
    DEFAULT_POLICY,
    Action,
    DlrStatus,
    ErrorCode,
    Policy,
    Verdict,
    classify,
    parse,
    should_remove,
    should_retry,
)
from dlrkit._cli import main, markdown_table
from dlrkit.testing.strategies import wire_fields

# The DESIGN.md table, written out independently of the code.
DESIGN_TABLE = {
    Action.RETRY: {2, 7, 8, 16, 41},
    Action.REMOVE_NUMBER: {3, 4, 9},
    Action.FIX_REQUEST: {10, 39, 50, 51, 52, 53},
    Action.CONTACT_SUPPORT: {5, 11, 54, 99},
    Action.GIVE_UP: {1, 6, 12, 13, 14, 15},
}
EXPECTED = {code: action for action, codes in DESIGN_TABLE.items() for code in codes}


def receipt(status: str, code: int | str):
    return parse(
        {
            "messageId": "m",
            "msisdn": "447700900000",
            "to": "x",
            "status": status,
            "err-code": str(code),
        }
    )


def test_design_table_covers_every_code_but_zero() -> None:
    assert set(EXPECTED) | {0} == {int(c) for c in ErrorCode}


@pytest.mark.parametrize("code", [c for c in ErrorCode if c != 0])
@pytest.mark.parametrize("status", ["failed", "rejected", "expired", "unknown"])
def test_every_code_on_a_failure_status(code: ErrorCode, status: str) -> None:
    verdict = classify(receipt(status, int(code)))
    assert verdict.action is EXPECTED[code]
    assert code.action is EXPECTED[code]
    # The reason names the code and its meaning.
    assert f"err-code {int(code)} ({code.meaning})" in verdict.reason
    assert (verdict.retry_after is not None) is (verdict.action is Action.RETRY)


@pytest.mark.parametrize("status", list(DlrStatus))
def test_every_status_with_code_zero(status: DlrStatus) -> None:
    verdict = classify(receipt(status.value, 0))
    expected = {
        DlrStatus.DELIVERED: Action.DONE,
        DlrStatus.ACCEPTED: Action.WAIT,
        DlrStatus.BUFFERED: Action.WAIT,
    }.get(status, Action.GIVE_UP)
    assert verdict.action is expected
    assert verdict.reason


@pytest.mark.parametrize("status", ["accepted", "buffered"])
def test_interim_statuses_wait_whatever_the_code(status: str) -> None:
    for code in (0, 2, 3, 99, 73):
        verdict = classify(receipt(status, code))
        assert verdict.action is Action.WAIT
        assert "later receipt" in verdict.reason


def test_delivered_with_a_non_zero_code_is_done_and_says_so() -> None:
    verdict = classify(receipt("delivered", 2))
    assert verdict.action is Action.DONE
    assert "err-code 2 (Absent Subscriber - Temporary)" in verdict.reason
    assert verdict.retry_after is None


def test_failure_with_code_zero_reads_as_unknown() -> None:
    verdict = classify(receipt("failed", 0))
    assert verdict.action is Action.GIVE_UP
    assert "no err-code" in verdict.reason and "err-code 1 (Unknown)" in verdict.reason


def test_codes_outside_the_table_give_up_with_a_reason() -> None:
    verdict = classify(receipt("failed", 73))
    assert verdict.action is Action.GIVE_UP
    assert "err-code 73 is not in the guide's table" in verdict.reason


def test_retry_delays() -> None:
    delays = {int(c): classify(receipt("failed", int(c))).retry_after for c in ErrorCode}
    busy, absent = delays[ErrorCode.HANDSET_BUSY], delays[ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY]
    assert busy is not None and absent is not None and busy < absent
    assert delays[ErrorCode.DAILY_LIMIT_SURPASSED] == timedelta(hours=24)
    assert delays[ErrorCode.GATEWAY_QUOTA_EXCEEDED] == timedelta(hours=1)
    assert {c for c, d in delays.items() if d is not None} == DESIGN_TABLE[Action.RETRY]


def test_backoff() -> None:
    verdict = classify(receipt("failed", 7))
    assert [verdict.backoff(n) for n in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]
    assert verdict.backoff(10) == timedelta(hours=24)
    assert verdict.backoff(10**6) == timedelta(hours=24)  # no overflow
    assert verdict.backoff(3, cap=timedelta(minutes=12)) == timedelta(minutes=12)
    with pytest.raises(ValueError, match="counts from 1"):
        verdict.backoff(0)
    assert classify(receipt("failed", 3)).backoff(1) is None


def test_should_retry_and_should_remove() -> None:
    assert should_retry(receipt("failed", 2)) and not should_remove(receipt("failed", 2))
    assert should_remove(receipt("failed", 3)) and not should_retry(receipt("failed", 3))
    assert not should_retry(receipt("delivered", 0))
    policy = DEFAULT_POLICY.with_action(3, Action.RETRY)
    assert should_retry(receipt("failed", 3), policy)
    assert not should_remove(receipt("failed", 3), policy)


def test_policy_overrides_leave_the_default_alone() -> None:
    policy = (
        DEFAULT_POLICY.with_action(ErrorCode.ANTI_SPAM_REJECTION, Action.FIX_REQUEST)
        .with_retry_after(2, timedelta(hours=2))
        .with_action(73, "retry")  # type: ignore[arg-type]
        .with_unknown_code_action(Action.CONTACT_SUPPORT)
        .with_default_retry_after(timedelta(minutes=1))
    )
    assert classify(receipt("rejected", 6), policy).action is Action.FIX_REQUEST
    assert classify(receipt("rejected", 6)).action is Action.GIVE_UP
    assert classify(receipt("failed", 2), policy).retry_after == timedelta(hours=2)
    assert classify(receipt("failed", 2)).retry_after == timedelta(minutes=30)
    unknown_retry = classify(receipt("failed", 73), policy)
    assert unknown_retry.action is Action.RETRY
    assert unknown_retry.retry_after == timedelta(minutes=1)
    assert classify(receipt("failed", 74), policy).action is Action.CONTACT_SUPPORT
    assert classify(receipt("failed", 74)).action is Action.GIVE_UP


def test_policy_is_immutable_and_hashable() -> None:
    with pytest.raises(TypeError):
        DEFAULT_POLICY.actions[2] = Action.GIVE_UP  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        DEFAULT_POLICY.unknown_code_action = Action.RETRY  # type: ignore[misc]
    assert hash(DEFAULT_POLICY) == hash(DEFAULT_POLICY.with_action(2, Action.RETRY))
    assert DEFAULT_POLICY.with_action(2, Action.RETRY) == DEFAULT_POLICY


def test_policy_refuses_non_positive_delays() -> None:
    with pytest.raises(ValueError, match="positive"):
        DEFAULT_POLICY.with_retry_after(2, timedelta(0))
    with pytest.raises(ValueError, match="positive"):
        DEFAULT_POLICY.with_default_retry_after(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        Policy(actions={2: "sometimes"}, retry_after={})  # type: ignore[dict-item]


@attrs.frozen
class OtherRecord:
    status: DlrStatus
    err_code: int | None


def test_classify_takes_any_receipt_like_record() -> None:
    assert classify(OtherRecord(DlrStatus.FAILED, 7)).action is Action.RETRY
    assert classify(OtherRecord(DlrStatus.REJECTED, None)).action is Action.GIVE_UP
    assert classify(OtherRecord(DlrStatus.DELIVERED, None)).action is Action.DONE


actions = st.sampled_from(list(Action))
policies = st.builds(
    lambda rows, unknown: Policy(actions=rows, retry_after={}, unknown_code_action=unknown),
    st.dictionaries(st.integers(0, 10**9), actions, max_size=5),
    actions,
)


@given(wire_fields(), policies)
def test_classify_never_raises_and_always_gives_a_reason(
    fields: dict[str, str], policy: Policy
) -> None:
    r = parse(fields)
    for verdict in (classify(r), classify(r, policy)):
        assert isinstance(verdict, Verdict)
        assert verdict.reason.strip()
        assert (verdict.retry_after is not None) is (verdict.action is Action.RETRY)
        if r.status is DlrStatus.DELIVERED:
            assert verdict.action is Action.DONE


# -- dlrkit explain ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(ErrorCode))
def test_explain_every_code(code: ErrorCode, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", str(int(code)), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["meaning"] == code.meaning
    assert facts["description"] == code.description
    assert facts["action"] == code.action.value
    name = code.name.lower().replace("_", "-")
    assert main(["explain", name]) == 0
    text = capsys.readouterr().out
    if name in {s.value for s in DlrStatus}:
        # "delivered" and "unknown" are status words first; the number is unambiguous.
        assert text.startswith(f"status {name}:")
    else:
        assert code.meaning in text and f"action: {code.action.value}" in text


@pytest.mark.parametrize("status", list(DlrStatus))
def test_explain_every_status(status: DlrStatus, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", status.value.upper(), "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["description"] == status.description
    assert facts["final"] is status.is_final


def test_explain_code_outside_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "73"]) == 0
    out = capsys.readouterr().out
    assert "not in the guide's table" in out and "give_up" in out


@pytest.mark.parametrize("word", ["nope", "", "-3", "2.5"])
def test_explain_unknown_word_fails_with_one_line(word: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dlrkit", "explain", word],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_docs_table_is_generated_from_the_code() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "classification.md").read_text()
    match = re.search(
        r"<!-- BEGIN GENERATED: dlrkit explain --all -->\n(.*?)<!-- END GENERATED -->",
        doc,
        re.DOTALL,
    )
    assert match, "the generated section is missing from docs/classification.md"
    assert match.group(1) == markdown_table(DEFAULT_POLICY), (
        "docs/classification.md is stale: regenerate its table with `dlrkit explain --all`"
    )
