"""Receipt logs for the command line: files, stdin and gzip, one payload a line.

Lines are read with a bounded length, so memory stays flat whatever the file
holds: a 200 MB line (or a small gzip bomb that expands to one) is one
invalid line, never 200 MB of memory. A plain file can be read in byte
ranges, each from the first line that starts in it, for ``--jobs``.
"""

from __future__ import annotations

import gzip
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import BinaryIO, Final, NamedTuple, cast

from ._errors import DlrError, MalformedPayloadError
from ._limits import DEFAULT_LIMITS

__all__ = ["MAX_LINE", "SAMPLE", "Log", "log_lines", "open_log", "sample_path", "stdin_bytes"]

SAMPLE_LOG: Final = "sample-dlr.jsonl.gz"
SAMPLE: Final = "sample"
"""The name under which the bundled sample log is read and reported."""
SAMPLE_INVALID: Final = 3
"""Lines of the bundled sample that are invalid on purpose, to show how they are reported."""
MAX_LINE: Final = DEFAULT_LIMITS.max_size
"""The longest line read, in bytes: a line holds one payload, which is at most this."""


class Log(NamedTuple):
    """An open log: its bytes, and for progress its size on disk and how much is read."""

    stream: BinaryIO
    size: int | None  # bytes on disk (compressed, for .gz), None for a pipe
    position: Callable[[], int] | None  # bytes on disk read so far


@contextmanager
def sample_path() -> Iterator[str]:
    """The path of the realistic sample log bundled with dlrkit."""
    with resources.as_file(resources.files("dlrkit") / "data" / SAMPLE_LOG) as path:
        yield str(path)


@contextmanager
def open_log(path: str, start: int = 0) -> Iterator[Log]:
    """Open a log as bytes: ``-`` is stdin, a ``.gz`` file is decompressed as it is read.

    *start* (plain files only) begins at the first line that starts at or
    after that byte.
    """
    if path == "-":
        stdin = stdin_bytes()
        yield Log(stdin, _regular_size(stdin), None)
        return
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        if path.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw) as unpacked:
                yield Log(cast(BinaryIO, unpacked), size, raw.tell)
            return
        if start:
            raw.seek(start - 1)
            if raw.read(1) != b"\n":
                _skip_line(raw)  # the line that began before start is the range before's
        yield Log(cast(BinaryIO, raw), size, raw.tell)


def stdin_bytes() -> BinaryIO:
    """The standard input as bytes; OSError when the process was started without one."""
    if sys.stdin is None:
        raise OSError("the standard input is closed")
    return sys.stdin.buffer


def _regular_size(stream: BinaryIO) -> int | None:
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _skip_line(stream: BinaryIO) -> None:
    line = stream.readline(MAX_LINE + 1)
    while line and not line.endswith(b"\n"):
        line = stream.readline(MAX_LINE + 1)


def log_lines(
    stream: BinaryIO, max_line: int = MAX_LINE, end: int | None = None
) -> Iterator[str | DlrError]:
    """Each line of *stream* as text, or a ``DlrError`` for a line over *max_line* bytes.

    Never holds more than *max_line* + 1 bytes of a line. Bytes that are not
    UTF-8 become U+FFFD: one bad byte makes one odd line, not a failed report.
    With *end*, stops before the first line that starts at or after that
    byte. Errors of the stream itself (a truncated gzip file) are left to
    the caller.
    """
    readline = stream.readline
    tell = stream.tell
    while end is None or tell() < end:
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
