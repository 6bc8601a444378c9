"""What every framework helper shares: a bounded body, the error's JSON body, logging."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from .._errors import DlrError, MalformedPayloadError, SignatureError
from .._limits import DEFAULT_LIMITS, Limits

__all__ = ["check_length", "error_body", "log_refusal", "max_size", "read_bounded"]

logger: Final = logging.getLogger("dlrkit.contrib")


def max_size(options: Mapping[str, Any]) -> int:
    """The body size the helper may read: ``limits.max_size`` from the parse options."""
    limits: Limits = options.get("limits", DEFAULT_LIMITS)
    return limits.max_size


def _too_large(size: str) -> MalformedPayloadError:
    return MalformedPayloadError(
        f"payload of {size} bytes is over the limit", value=f"<{size} bytes>", http_status=413
    )


def check_length(header: str | None, limit: int) -> None:
    """Refuse a body whose ``Content-Length`` says it is over *limit*, before reading it."""
    if header is not None and header.strip().isdigit() and int(header.strip()[:20]) > limit:
        raise _too_large(header.strip()[:20])


def read_bounded(read: Callable[[int], bytes], limit: int) -> bytes:
    """Read a body from a file-like *read*, refusing it (413) past *limit* bytes.

    At most *limit* + 1 bytes are read, whatever the client sends: a 500 MiB
    body costs 64 KiB of memory, not 500 MiB.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit}")
        chunks.append(chunk)


def error_body(error: DlrError) -> dict[str, object]:
    """What a refused request is told, as JSON: the error in words, and which field.

    Sent as ``application/json``, never as HTML: the message quotes the
    offending value, which a sender chose.
    """
    body: dict[str, object] = {"error": str(error), "field": error.field}
    if isinstance(error, SignatureError):
        body["reason"] = error.reason.value
    return body


def log_refusal(error: DlrError) -> None:
    """Log a refused request at WARNING (values are quoted: no raw control characters)."""
    logger.warning("refused a delivery receipt (%d): %s", error.http_status, error)
