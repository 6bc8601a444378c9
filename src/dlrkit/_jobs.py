"""``dlrkit report --jobs N``: count a log's parts in N processes, then merge the reports.

Plain files are cut into byte ranges at line boundaries; a ``.gz`` file or
stdin is one part (a compressed stream cannot be entered in its middle).
Each part is counted by :meth:`Report.add_lines` in a worker process of the
standard library's ``concurrent.futures``; the parts' reports merge, in
order, into the report one process would have made (see :class:`Report`).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Final, NamedTuple, TextIO

from ._geo import country_lookup
from ._logs import MAX_LINE, log_lines, open_log
from ._render import printable
from ._report import LogLine, Report, is_report_header

__all__ = [
    "Part",
    "WriteError",
    "close_output",
    "count_part",
    "number_writer",
    "plan",
    "run_parts",
]

# Below this, a file is one part: a process costs more than it saves.
_MIN_SPLIT: Final = 4 * 1024 * 1024


class Part(NamedTuple):
    """A piece of input: a file (or ``-``), or a byte range of a plain file."""

    name: str  # as reported
    path: str
    start: int = 0
    end: int | None = None
    csv_header: str | None = None  # for a range of a CSV export that starts after its header


def plan(sources: list[tuple[str, str]], jobs: int) -> list[Part]:
    """The parts to count for *sources* (name, path) with *jobs* processes."""
    parts: list[Part] = []
    for name, path in sources:
        size = _size(path) if jobs > 1 and path != "-" and not path.endswith(".gz") else None
        if size is None or size < _MIN_SPLIT:
            parts.append(Part(name, path))
            continue
        header = _csv_header(path)
        step = -(-size // jobs)
        parts += [
            Part(name, path, start, min(start + step, size), header if start else None)
            for start in range(0, size, step)
        ]
    return parts


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None  # reported when it is opened


def _csv_header(path: str) -> str | None:
    try:
        with open_log(path) as log:
            for line in log_lines(log.stream):
                if isinstance(line, str) and line.strip():
                    return line if is_report_header(line) else None
    except OSError:
        pass
    return None


Problem = str
"""Why a part could not be read to its end (its report covers what was read)."""


class WriteError(Exception):
    """An output could not be written: not to be taken for an input that cannot be read."""


def close_output(output: TextIO, name: str) -> None:
    """Close an output file, a failure to write it (a full disk) as a :class:`WriteError`."""
    try:
        output.close()
    except OSError as error:
        raise WriteError(f"cannot write {printable(name)}: {error.strerror or error}") from None


def number_writer(output: TextIO, name: str) -> Callable[[str], None]:
    """``Report.on_remove`` for a list of numbers: one receipt, one line, escaped."""

    def write(number: str) -> None:
        try:
            output.write(printable(number) + "\n")
        except OSError as error:
            raise WriteError(f"cannot write {printable(name)}: {error.strerror or error}") from None

    return write


def count_part(
    part: Part,
    report: Report,
    progress: Callable[[Iterator[LogLine], int | None, Callable[[], int] | None], Iterator[LogLine]]
    | None = None,
) -> Problem | None:
    """Count *part* into *report*; a message if it could not be read to its end."""
    try:
        with open_log(part.path, part.start) as log:
            lines: Iterator[LogLine] = log_lines(log.stream, MAX_LINE, part.end)
            if progress is not None:
                lines = progress(lines, log.size, log.position)
            report.add_lines(lines, part.name, csv_header=part.csv_header)
    except (OSError, EOFError, zlib.error) as error:
        return _unreadable(error)
    return None


def _unreadable(error: Exception) -> str:
    if isinstance(error, EOFError):
        return "the compressed file ends too soon (truncated?); the report covers what was read"
    if isinstance(error, zlib.error) or type(error).__name__ == "BadGzipFile":
        return f"not a valid gzip file ({error}); the report covers what was read"
    assert isinstance(error, OSError)
    return f"cannot read: {error.strerror or error}"


def _worker(part: Part, remove_path: str | None, geo: bool) -> tuple[Report, Problem | None]:
    report = Report(countries=country_lookup() if geo else None)
    if remove_path is None:
        problem = count_part(part, report)
    else:
        with open(remove_path, "w", encoding="utf-8") as remove:
            report.on_remove = number_writer(remove, remove_path)
            problem = count_part(part, report)
        report.on_remove = None
    report.countries = None  # a closure: it does not cross processes
    return report, problem


def run_parts(
    parts: list[Part], jobs: int, remove_paths: list[str] | None, geo: bool
) -> Iterator[tuple[Part, Report, Problem | None]]:
    """Count *parts* in *jobs* processes; their reports in order, as each is ready.

    Stdin is counted here, in its turn: a worker cannot read this process's.
    """
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [
            None
            if part.path == "-"
            else pool.submit(_worker, part, remove_paths[i] if remove_paths else None, geo)
            for i, part in enumerate(parts)
        ]
        for i, (part, future) in enumerate(zip(parts, futures, strict=True)):
            if future is None:
                report, problem = _worker(part, remove_paths[i] if remove_paths else None, geo)
            else:
                report, problem = future.result()
            yield part, report, problem
