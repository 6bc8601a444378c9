"""The one exception family every dlrkit parser raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Final, NamedTuple

__all__ = [
    "DlrError",
    "InvalidFieldError",
    "MalformedPayloadError",
    "MissingFieldError",
    "Problem",
    "SignatureError",
    "SignatureFailure",
    "combined",
]

# Longest excerpt of an offending value quoted in a message: a hostile 64 KiB
# body must not turn into a 64 KiB log line.
_QUOTE_LIMIT = 80


def quote(value: object) -> str:
    """``repr`` of *value*, shortened to a size a log line can carry."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print: Python refuses over 4,300 digits
        text = f"<{type(value).__name__} too long to show>"
    if len(text) > _QUOTE_LIMIT:
        text = text[: _QUOTE_LIMIT - 3] + "..."
    return text


class Problem(NamedTuple):
    """One thing wrong with a payload: which field, its value, and why, in words."""

    field: str | None
    value: object
    reason: str


class DlrError(ValueError):
    """Something about a delivery receipt is wrong.

    Attributes:
        field: the wire name of the (first) offending field (``"err-code"``),
            or None when the problem is with the payload as a whole.
        value: its value as received, or None.
        problems: every problem found, first to last: a parser reads every
            field and reports them all (``problems[0]`` is ``field``/``value``).
            The message names the first and says how many more there are.
        http_status: the status a webhook should answer with. A 4xx tells the
            provider the request itself is bad.
    """

    http_status: int = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: object = None,
        http_status: int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.problems: tuple[Problem, ...] = (Problem(field, value, reason or message),)
        if http_status is not None:
            self.http_status = http_status

    def __reduce__(self) -> tuple[object, ...]:
        # Keep field/value/http_status across pickling (multiprocessing, logging).
        return (
            _rebuild,
            (type(self), str(self), self.field, self.value, self.http_status, self.__dict__),
        )


def _rebuild(
    cls: type[DlrError],
    message: str,
    field: str | None,
    value: object,
    http_status: int,
    state: dict[str, object],
) -> DlrError:
    error = cls.__new__(cls)
    DlrError.__init__(error, message, field=field, value=value, http_status=http_status)
    error.__dict__.update(state)
    return error


class MissingFieldError(DlrError):
    """A required field is absent (or empty, or the literal ``null``)."""

    def __init__(self, field: str, *, value: object = None) -> None:
        if value is None:
            message, reason = f"missing required field {field!r}", "missing"
        else:
            message = f"required field {field!r} has no value: {quote(value)}"
            reason = "has no value"
        super().__init__(message, field=field, value=value, reason=reason)


class InvalidFieldError(DlrError):
    """A field is present but its value cannot be what the provider sends."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(
            f"invalid {field!r} {quote(value)}: {reason}", field=field, value=value, reason=reason
        )
        self.reason = reason


def combined(errors: Sequence[DlrError]) -> DlrError:
    """One error for several problems: the first, whose message says how many more.

    The message stays one line (a webhook log's), ``field``, ``value`` and
    ``http_status`` are the first problem's, and ``problems`` lists them all.
    """
    first = errors[0]
    if len(errors) > 1:
        more = len(errors) - 1
        first.args = (f"{first.args[0]} (and {more} more problem{'s' if more > 1 else ''})",)
        first.problems = tuple(problem for error in errors for problem in error.problems)
    return first


class MalformedPayloadError(DlrError):
    """The payload as a whole is unusable.

    Raised for undecodable bytes, a JSON body that is not an object, an
    unsupported content type or method, and a body over the size limit.
    """


class SignatureFailure(str, Enum):
    """Why a signed request was refused: ``SignatureError.reason``.

    A ``str`` enum, so its value is a stable word for logs and metrics
    (``"mismatch"``), and ``.description`` says what it means.
    """

    MISSING = "missing"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"
    NO_TIMESTAMP = "no-timestamp"
    EXPIRED = "expired"
    FUTURE = "future"
    REPLAYED = "replayed"
    UNAVAILABLE = "unavailable"

    @property
    def description(self) -> str:
        """What the failure means, in a sentence."""
        return _FAILURES[self]

    def __str__(self) -> str:
        return self.value


_FAILURES: Final[Mapping[SignatureFailure, str]] = {
    SignatureFailure.MISSING: "the request has no 'sig'",
    SignatureFailure.MALFORMED: (
        "a field cannot be signed (repeated, not a string, a name with '&' or '=', "
        "not valid Unicode)"
    ),
    SignatureFailure.MISMATCH: (
        "the signature is wrong: wrong secret, wrong method, or a changed field"
    ),
    SignatureFailure.NO_TIMESTAMP: (
        "the window is on, and 'timestamp' is absent or not a time (unix seconds or ISO 8601)"
    ),
    SignatureFailure.EXPIRED: "'timestamp' is more than max_age before now",
    SignatureFailure.FUTURE: "'timestamp' is more than max_age after now",
    SignatureFailure.REPLAYED: "the nonce cache has already accepted this request",
    SignatureFailure.UNAVAILABLE: (
        "the replay guard cannot record the request now (full, or its store is down): "
        "answered with 503, so that the provider retries later"
    ),
}


class SignatureError(DlrError):
    """A signed request failed verification.

    Attributes:
        reason: a :class:`SignatureFailure` saying what failed.
    """

    http_status = 401

    def __init__(
        self,
        message: str,
        *,
        reason: SignatureFailure | str,
        field: str | None = None,
        value: object = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message, field=field, value=value, http_status=http_status)
        self.reason = SignatureFailure(reason)
