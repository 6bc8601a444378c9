"""Receipt logs for the command line: files, stdin and gzip, one payload a line.

Lines are read with a bounded length, so memory stays flat whatever the file
holds: a 200 MB line (or a small gzip bomb that expands to one) is one
invalid line, never 200 MB of memory.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import BinaryIO, Final, cast

from ._errors import DlrError, MalformedPayloadError
from ._limits import DEFAULT_LIMITS

__all__ = ["MAX_LINE", "log_lines", "open_log", "sample_log"]

SAMPLE_LOG: Final = "sample-dlr.jsonl.gz"
MAX_LINE: Final = DEFAULT_LIMITS.max_size
"""The longest line read, in bytes: a line holds one payload, which is at most this."""


@contextmanager
def open_log(path: str) -> Iterator[BinaryIO]:
    """Open a log as bytes: ``-`` is stdin, a ``.gz`` file is decompressed as it is read."""
    if path == "-":
        yield sys.stdin.buffer
        return
    stream = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")  # noqa: SIM115
    with stream:
        yield cast(BinaryIO, stream)


@contextmanager
def sample_log() -> Iterator[BinaryIO]:
    """The realistic sample log bundled with dlrkit."""
    resource = resources.files("dlrkit") / "data" / SAMPLE_LOG
    with resources.as_file(resource) as path, open_log(str(path)) as stream:
        yield stream


def log_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[str | DlrError]:
    """Each line of *stream* as text, or a ``DlrError`` for a line over *max_line* bytes.

    Never holds more than *max_line* + 1 bytes of a line. Bytes that are not
    UTF-8 become U+FFFD: one bad byte makes one odd line, not a failed report.
    Errors of the stream itself (a truncated gzip file) are left to the caller.
    """
    readline = stream.readline
    while True:
        line = readline(max_line + 1)
        if not line:
            return
        if len(line) > max_line and not line.endswith(b"\n"):
            size = len(line)
            while line and not line.endswith(b"\n"):  # skip the rest, unkept
                line = readline(max_line + 1)
                size += len(line)
            size -= line.endswith(b"\n")
            yield MalformedPayloadError(
                f"line of {size:,} bytes is longer than {max_line:,}", value=f"<{size} bytes>"
            )
            continue
        yield line.decode("utf-8", "replace")
