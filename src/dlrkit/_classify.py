"""From a receipt to the decision it drives: ``classify`` and its ``Policy``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Final, Protocol

import attrs

from ._codes import Action, ErrorCode
from ._frozen import FrozenMap
from ._status import DlrStatus

__all__ = [
    "DEFAULT_POLICY",
    "STATUS_ACTIONS",
    "Classifiable",
    "Policy",
    "ReceiptLike",
    "Verdict",
    "classify",
    "should_remove",
    "should_retry",
    "verdict_for",
]


class ReceiptLike(Protocol):
    """Anything that says how a message fared: a status and maybe an err-code.

    Every dlrkit record is one (``DeliveryReceipt``, ``MessageState``, and the
    SMPP, Messages API and Reports API records).
    """

    @property
    def status(self) -> DlrStatus: ...

    @property
    def err_code(self) -> int | None: ...


class Classifiable:
    """Adds ``verdict`` to a record that has ``status`` and ``err_code``."""

    __slots__ = ()

    @property
    def verdict(self) -> Verdict:
        """What to do about it (default policy; ``classify(record, policy)`` for another)."""
        return classify(self)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class Verdict:
    """What to do about a receipt, and why.

    ``retry_after`` is set only when ``action`` is ``Action.RETRY``: the delay
    before the first new attempt. :meth:`backoff` gives the delay for later
    attempts.
    """

    action: Action
    reason: str
    retry_after: timedelta | None = None

    def backoff(self, attempt: int, *, cap: timedelta = timedelta(hours=24)) -> timedelta | None:
        """The delay before retry number *attempt* (1 for the first retry).

        Doubles with each attempt, starting from ``retry_after`` and never
        more than *cap*. None unless the action is ``RETRY``.

        >>> v = Verdict(action=Action.RETRY, reason="busy", retry_after=timedelta(minutes=5))
        >>> [str(v.backoff(n)) for n in (1, 2, 3)]
        ['0:05:00', '0:10:00', '0:20:00']
        """
        if attempt < 1:
            raise ValueError(f"attempt counts from 1, got {attempt}")
        if self.action is not Action.RETRY or self.retry_after is None:
            return None
        # In float seconds, with a bounded exponent: no overflow for any attempt.
        seconds = self.retry_after.total_seconds() * 2.0 ** min(attempt - 1, 64)
        return min(timedelta(seconds=min(seconds, cap.total_seconds())), cap)


# Default first retry delays. A busy handset frees up in minutes; an absent
# subscriber (phone off, out of coverage) takes longer; quota codes wait for
# the next period (16: requests per period; 41: a daily volume limit).
_RETRY_AFTER: Final[Mapping[int, timedelta]] = {
    ErrorCode.ABSENT_SUBSCRIBER_TEMPORARY: timedelta(minutes=30),
    ErrorCode.HANDSET_BUSY: timedelta(minutes=5),
    ErrorCode.NETWORK_ERROR: timedelta(minutes=10),
    ErrorCode.GATEWAY_QUOTA_EXCEEDED: timedelta(hours=1),
    ErrorCode.DAILY_LIMIT_SURPASSED: timedelta(hours=24),
}
_FALLBACK_RETRY_AFTER: Final = timedelta(minutes=15)


def _freeze_actions(actions: Mapping[int, Action]) -> Mapping[int, Action]:
    return FrozenMap({int(code): Action(action) for code, action in actions.items()})


def _freeze_delays(delays: Mapping[int, timedelta]) -> Mapping[int, timedelta]:
    for code, delay in delays.items():
        if delay <= timedelta(0):
            raise ValueError(f"retry delay for err-code {code} must be positive, got {delay}")
    return FrozenMap({int(code): delay for code, delay in delays.items()})


@attrs.frozen(kw_only=True)
class Policy:
    """Which action each err-code calls for, and how long to wait before a retry.

    Immutable: derive a changed policy from ``DEFAULT_POLICY`` with the
    ``with_*`` methods, each of which returns a new policy.

    >>> p = DEFAULT_POLICY.with_action(ErrorCode.ANTI_SPAM_REJECTION, Action.FIX_REQUEST)
    >>> p.action_for(6), DEFAULT_POLICY.action_for(6)
    (<Action.FIX_REQUEST: 'fix_request'>, <Action.GIVE_UP: 'give_up'>)
    """

    actions: Mapping[int, Action] = attrs.field(converter=_freeze_actions)
    retry_after: Mapping[int, timedelta] = attrs.field(converter=_freeze_delays)
    unknown_code_action: Action = Action.GIVE_UP
    default_retry_after: timedelta = _FALLBACK_RETRY_AFTER
    # classify() is a pure function of (status, err-code, policy) and a Verdict
    # is immutable: each policy remembers the verdicts for the guide's codes
    # (a bounded set, so hostile codes cannot grow it).
    _verdicts: dict[tuple[DlrStatus, int | None], Verdict] = attrs.field(
        factory=dict, init=False, eq=False, hash=False, repr=False
    )

    def action_for(self, code: int) -> Action:
        """The action for *code*; ``unknown_code_action`` for a code with no row."""
        return self.actions.get(code, self.unknown_code_action)

    def retry_delay(self, code: int) -> timedelta:
        """The first retry delay for *code*."""
        return self.retry_after.get(code, self.default_retry_after)

    def with_action(self, code: int, action: Action) -> Policy:
        """A copy where *code* (in the guide's table or not) calls for *action*."""
        return attrs.evolve(self, actions={**self.actions, code: action})

    def with_retry_after(self, code: int, delay: timedelta) -> Policy:
        """A copy where a retry for *code* waits *delay* first."""
        return attrs.evolve(self, retry_after={**self.retry_after, code: delay})

    def with_unknown_code_action(self, action: Action) -> Policy:
        """A copy where codes with no row call for *action*."""
        return attrs.evolve(self, unknown_code_action=action)

    def with_default_retry_after(self, delay: timedelta) -> Policy:
        """A copy where retries for codes with no delay of their own wait *delay*."""
        if delay <= timedelta(0):
            raise ValueError(f"default retry delay must be positive, got {delay}")
        return attrs.evolve(self, default_retry_after=delay)


DEFAULT_POLICY: Final = Policy(
    actions={code: code.action for code in ErrorCode}, retry_after=_RETRY_AFTER
)
"""The recommendations of the guide's own wording; see docs/classification.md."""


STATUS_ACTIONS: Final[Mapping[DlrStatus, Action]] = {
    DlrStatus.DELIVERED: Action.DONE,
    DlrStatus.ACCEPTED: Action.WAIT,
    DlrStatus.BUFFERED: Action.WAIT,
}
"""Statuses that decide the action whatever the err-code; the others defer to it."""


def _describe(code: int) -> str:
    known = ErrorCode.lookup(code)
    if known is None:
        return f"err-code {code} is not in the guide's table (the provider adds codes)"
    return f"err-code {code} ({known.meaning}): {known.description}"


def classify(receipt: ReceiptLike, policy: Policy | None = None) -> Verdict:
    """The action a receipt calls for, with a reason a person can read.

    The status comes first: ``delivered`` is DONE and ``accepted``/``buffered``
    are WAIT, whatever the err-code. For ``expired``, ``failed``, ``rejected``
    and ``unknown``, the err-code's row in *policy* (``DEFAULT_POLICY`` if not
    given) decides. Err-code 0 there, or no err-code at all, reads as code 1
    ("no reason could be determined").

    >>> from dlrkit import parse
    >>> v = classify(parse({"messageId": "m", "msisdn": "1", "to": "x",
    ...                     "status": "failed", "err-code": "7"}))
    >>> v.action, v.retry_after
    (<Action.RETRY: 'retry'>, datetime.timedelta(seconds=300))
    """
    return verdict_for(receipt.status, receipt.err_code, policy)


def verdict_for(status: DlrStatus, err_code: int | None, policy: Policy | None = None) -> Verdict:
    """:func:`classify` for a status and an err-code, without a receipt object."""
    policy = DEFAULT_POLICY if policy is None else policy
    key = (status, err_code)
    verdict = policy._verdicts.get(key)
    if verdict is None:
        verdict = _classify(status, err_code, policy)
        if err_code is None or err_code in _GUIDE_CODES:
            policy._verdicts[key] = verdict
    return verdict


_GUIDE_CODES: Final = frozenset(int(code) for code in ErrorCode)


def _classify(status: DlrStatus, code: int | None, policy: Policy) -> Verdict:
    by_status = STATUS_ACTIONS.get(status)
    if by_status is Action.DONE:
        if code:
            reason = (
                f"Status delivered, though {_describe(code)}. The status wins: sending "
                "again would duplicate a delivered message."
            )
        else:
            reason = "Status delivered: the message reached the carrier or the handset."
        return Verdict(action=Action.DONE, reason=reason)
    if by_status is Action.WAIT:
        return Verdict(
            action=Action.WAIT,
            reason=f"Status {status.value}: {status.description}. A later receipt follows.",
        )
    if not code:
        code = int(ErrorCode.UNKNOWN)
        detail = f"Status {status.value} with no err-code, read as {_describe(code)}."
    else:
        detail = f"Status {status.value}, {_describe(code)}."
    action = policy.action_for(code)
    if action is Action.RETRY:
        delay = policy.retry_delay(code)
        return Verdict(action=action, reason=f"{detail} Retry in {delay}.", retry_after=delay)
    return Verdict(action=action, reason=f"{detail} {action.description}")


def should_retry(receipt: ReceiptLike, policy: Policy | None = None) -> bool:
    """True when the receipt calls for sending the message again later."""
    return classify(receipt, policy).action is Action.RETRY


def should_remove(receipt: ReceiptLike, policy: Policy | None = None) -> bool:
    """True when the number should be removed from your list."""
    return classify(receipt, policy).action is Action.REMOVE_NUMBER
