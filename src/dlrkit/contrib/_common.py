"""What every framework helper shares: a bounded body, the error's JSON body, logging."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from .._codecs import is_ascii_digits
from .._errors import DlrError, MalformedPayloadError, SignatureError, quote
from .._limits import DEFAULT_LIMITS, Limits

__all__ = [
    "check_length",
    "error_body",
    "log_refusal",
    "max_size",
    "read_bounded",
    "unreadable_body",
]

logger: Final = logging.getLogger("dlrkit.contrib")


def max_size(options: Mapping[str, Any]) -> int:
    """The body size the helper may read: ``limits.max_size`` from the parse options."""
    limits: Limits = options.get("limits", DEFAULT_LIMITS)
    return limits.max_size


def _too_large(size: str) -> MalformedPayloadError:
    return MalformedPayloadError(
        f"payload of {size} bytes is over the limit", value=None, http_status=413
    )


def check_length(header: str | None, limit: int) -> None:
    """Refuse a body whose ``Content-Length`` says it is over *limit*, before reading it.

    Whatever the header says, the helpers read at most *limit* + 1 bytes:
    this only refuses early what is announced too big (``000...0200000000``
    included). A header that is not a length is left to the server.
    """
    if header is None:
        return
    digits = header.strip()
    if is_ascii_digits(digits):
        significant = digits.lstrip("0")
        if len(significant) > len(str(limit)) or int(significant or "0") > limit:
            raise _too_large(quote(digits))


def read_bounded(read: Callable[[int], bytes], limit: int) -> bytes:
    """Read a body from a file-like *read*, refusing it (413) past *limit* bytes.

    At most *limit* + 1 bytes are read, whatever the client sends or
    announces: a 500 MiB body costs 64 KiB of memory, not 500 MiB. A body the
    server cannot read (a malformed chunked body, a client that went away)
    is the client's fault: a ``DlrError`` with status 400, never a 500.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = read(limit + 1 - size)
        except Exception as error:  # the server's own errors: InvalidChunkSize, NoMoreData, ...
            raise unreadable_body(error) from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit}")
        chunks.append(chunk)


def unreadable_body(error: BaseException) -> MalformedPayloadError:
    """The error for a body the server could not read (a client's fault: 400)."""
    return MalformedPayloadError(
        f"the request body could not be read ({type(error).__name__})", value=None
    )


def error_body(error: DlrError) -> dict[str, object]:
    """What a refused request is told, as JSON: the error in words, and which field.

    Sent as ``application/json``, never as HTML: the message quotes the
    offending value, which a sender chose.
    """
    body: dict[str, object] = {"error": str(error), "field": error.field}
    if isinstance(error, SignatureError):
        body["reason"] = error.reason.value
    return body


_REFUSED = "refused a delivery receipt (%d): %s"


def log_refusal(error: DlrError) -> None:
    """Log a refused request (values are quoted: no raw control characters).

    At WARNING; a refusal for a failure of our own (a 503: the replay guard's
    store cannot be reached) at ERROR, with its cause's traceback.
    """
    if error.http_status >= 500:
        logger.error(_REFUSED, error.http_status, error, exc_info=error)
        return
    logger.warning(_REFUSED, error.http_status, error)
