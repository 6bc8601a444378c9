"""The ``dlrkit`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final, NoReturn, TextIO

import attrs

from ._classify import DEFAULT_POLICY, STATUS_ACTIONS, Policy, Verdict, classify
from ._codecs import err_code_or_none
from ._codes import Action, ErrorCode
from ._errors import DlrError
from ._geo import country_lookup
from ._jobs import Part, WriteError, close_output, count_part, number_writer, plan, run_parts
from ._logs import MAX_LINE, SAMPLE, SAMPLE_INVALID, sample_path, stdin_bytes
from ._parse import parse_json, parse_query
from ._receipt import DeliveryReceipt
from ._render import printable, report_csv, report_html, report_text
from ._report import LogLine, Report
from ._status import DlrStatus
from ._version import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see docs/cli.md).

    0 done; 1 an input could not be read, or (``parse``) was not a receipt;
    2 a usage error; 70 an internal error (a bug: one line, no traceback);
    130 interrupted.
    """
    if sys.stderr is None:  # started with 2>&-: say nothing, do the work
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stdout is None:  # started with >&-: there is nowhere for the output to go
        print("dlrkit: the standard output is closed", file=sys.stderr)
        return 1
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (dlrkit report | head): not an error. Point
        # stdout at nothing, so that Python's own flush at exit stays quiet.
        _silence_stdout()
        return 0
    except (OSError, WriteError) as error:
        print(f"dlrkit: {printable(str(error))}", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: say so in one line, never with a traceback
        print(
            f"dlrkit: internal error ({type(error).__name__}: {printable(str(error))[:200]}); "
            "please report it",
            file=sys.stderr,
        )
        return 70


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Parser(argparse.ArgumentParser):
    """argparse, whose error messages quote what was typed: escaped, like all output."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {printable(message)}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dlrkit", description="Read SMS delivery receipts (DLRs) and say what they mean."
    )
    parser.add_argument("--version", action="version", version=f"dlrkit {__version__}")

    def usage(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        parser.print_help(err)
        return 2

    parser.set_defaults(run=usage)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    explain = commands.add_parser(
        "explain", help="what an err-code or status means, and what to do about it"
    )
    explain.add_argument(
        "word",
        nargs="?",
        help="an err-code (2), a status (failed) or a code name (handset-busy); "
        "a status word wins over a code name of the same spelling",
    )
    explain.add_argument("--json", action="store_true", help="print JSON for machines")
    explain.add_argument(
        "--all", action="store_true", help="print the whole err-code table as Markdown"
    )
    explain.set_defaults(run=_explain)

    report = commands.add_parser(
        "report",
        help="a delivery report over receipt logs (one JSON object or query string a line)",
    )
    report.add_argument("files", nargs="*", metavar="FILE", help="log files; - for stdin; .gz ok")
    report.add_argument("--sample", action="store_true", help="read the bundled sample log")
    report.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        default="text",
        help="text for people (the default), json for programs, csv for spreadsheets "
        "(one row per breakdown entry)",
    )
    report.add_argument(
        "--html",
        metavar="PATH",
        help="also write the report as one self-contained HTML page with charts",
    )
    report.add_argument(
        "--jobs",
        "-j",
        type=_jobs_count,
        default=1,
        metavar="N",
        help="count in N processes (plain files are split; each .gz file is one part)",
    )
    report.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    report.add_argument(
        "--remove-list",
        metavar="PATH",
        help="write every number to remove to PATH, one a line (may repeat a number)",
    )
    report.set_defaults(run=_report)

    parse = commands.add_parser(
        "parse", help="parse one receipt payload (query, form or JSON) and print it as JSON"
    )
    parse.add_argument("file", nargs="?", default="-", metavar="FILE", help="default: stdin")
    parse.set_defaults(run=_parse)
    return parser


def _explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.all:
        out.write(markdown_table(DEFAULT_POLICY))
        return 0
    if args.word is None:
        print("dlrkit explain: give an err-code, a status or --all", file=err)
        return 2
    facts = explain_word(args.word, DEFAULT_POLICY)
    if facts is None:
        print(
            f"dlrkit explain: {args.word!r} is neither an err-code nor a status "
            "(try 2, failed or handset-busy)",
            file=err,
        )
        return 2
    if args.json:
        json.dump(facts, out, indent=2)
        out.write("\n")
    else:
        out.write(_explanation_text(facts))
    return 0


def explain_word(word: str, policy: Policy) -> dict[str, object] | None:
    """The facts about an err-code, a code name or a status word, or None."""
    text = word.strip()
    code = err_code_or_none(text)
    if code is not None:
        return _code_facts(code, policy)
    key = text.lower()
    for status in DlrStatus:
        if key == status.value:
            return _status_facts(status)
    name = key.upper().replace("-", "_").replace(" ", "_")
    if name in ErrorCode.__members__:
        return _code_facts(int(ErrorCode[name]), policy)
    return None


def _code_facts(code: int, policy: Policy) -> dict[str, object]:
    known = ErrorCode.lookup(code)
    action = policy.action_for(code)
    return {
        "kind": "err-code",
        "code": code,
        "name": known.name if known is not None else None,
        "meaning": known.meaning if known is not None else None,
        "description": known.description if known is not None else None,
        "in_guide": known is not None,
        "action": action.value,
        "action_description": action.description,
        "retry_after_seconds": (
            int(policy.retry_delay(code).total_seconds()) if action is Action.RETRY else None
        ),
    }


def _status_facts(status: DlrStatus) -> dict[str, object]:
    action = STATUS_ACTIONS.get(status)
    return {
        "kind": "status",
        "status": status.value,
        "description": status.description,
        "final": status.is_final,
        "success": status.is_success,
        "action": action.value if action else None,
        "action_description": (
            action.description if action else "Depends on the err-code: dlrkit explain CODE."
        ),
    }


# The guide's Markdown, as plain text for a terminal.
_MARKDOWN: Final = (
    (re.compile(r"<mailto:([^>\s]+)>"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)"), r"\1 (\2)"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
)


def plain_text(markdown: str) -> str:
    """The guide's wording without its Markdown: links as "text (URL)", no ``**``."""
    for pattern, replacement in _MARKDOWN:
        markdown = pattern.sub(replacement, markdown)
    return markdown


def _explanation_text(facts: dict[str, object]) -> str:
    if facts["kind"] == "status":
        lines = [
            f"status {facts['status']}: {facts['description']}",
            f"  final: {'yes' if facts['final'] else 'no'}",
        ]
    elif facts["in_guide"]:
        lines = [
            f"err-code {facts['code']}: {facts['meaning']} ({facts['name']})",
            f"  {plain_text(str(facts['description']))}",
        ]
    else:
        lines = [
            f"err-code {facts['code']}: not in the guide's table (the provider adds codes)",
        ]
    action = facts["action"] or "depends on the err-code"
    retry = facts.get("retry_after_seconds")
    after = f" (first retry after {_duration(retry)})" if isinstance(retry, int) else ""
    lines.append(f"  action: {action}{after}")
    lines.append(f"  {facts['action_description']}")
    return "\n".join(lines) + "\n"


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def markdown_table(policy: Policy) -> str:
    """The err-code table with each code's action, as Markdown (docs/classification.md)."""
    rows = [
        "| err-code | meaning | action | first retry after |",
        "|---|---|---|---|",
    ]
    for code in ErrorCode:
        action = policy.action_for(code)
        delay = policy.retry_delay(code) if action is Action.RETRY else None
        after = _duration(int(delay.total_seconds())) if delay else ""
        rows.append(f"| {int(code)} | {code.meaning} | `{action.value}` | {after} |")
    unknown = policy.unknown_code_action
    rows.append(f"| any other | not in the guide's table | `{unknown.value}` | |")
    return "\n".join(rows) + "\n"


def _stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _jobs_count(text: str) -> int:
    jobs = err_code_or_none(text)
    if jobs is None or not 1 <= jobs <= 256:
        raise argparse.ArgumentTypeError(
            f"expected a number of processes from 1 to 256, got {text!r}"
        )
    return jobs


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with contextlib.ExitStack() as stack:
        sources = [(name, path) for name, path in _sources(args, stack)]
        if any(path == "-" for _, path in sources) and _stdin_is_terminal():
            print("dlrkit report: reading receipts from stdin (Ctrl-D to end)", file=err)
        remove_list: TextIO | None = None
        if args.remove_list:
            try:
                # Line-buffered: a write that fails (a full disk) fails on the number
                # it writes, named as the list's failure, not later at close.
                remove_list = open(args.remove_list, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
                stack.callback(close_output, remove_list, args.remove_list)
            except OSError as error:
                name = printable(args.remove_list)
                print(f"dlrkit report: cannot write {name}: {_why(error)}", file=err)
                return 1
        countries = country_lookup()
        if args.jobs > 1:
            report, status = _count_in_parallel(sources, args, remove_list, countries, err, stack)
        else:
            report, status = _count(sources, args, remove_list, countries, err)
    for source, line, problem in report.first_errors:
        print(f"dlrkit report: {printable(source)}:{line}: {printable(str(problem))}", file=err)
    if report.invalid > len(report.first_errors):
        print(f"dlrkit report: ... {report.invalid:,} invalid lines in all", file=err)
    intentional = SAMPLE_INVALID if args.sample else 0
    if intentional and report.invalid:
        print(
            f"dlrkit report: (the bundled sample holds {intentional} invalid lines on purpose, "
            "to show how they are reported)",
            file=err,
        )
    if args.html:
        try:
            with open(args.html, "w", encoding="utf-8") as page:
                page.write(report_html(report))
        except OSError as error:
            print(f"dlrkit report: cannot write {printable(args.html)}: {_why(error)}", file=err)
            status = 1
    if args.format == "json":
        json.dump(report.to_json(), out, indent=2)
        out.write("\n")
    elif args.format == "csv":
        out.write(report_csv(report))
    else:
        out.write(report_text(report, intentional_invalid=intentional))
    return status


def _sources(args: argparse.Namespace, stack: contextlib.ExitStack) -> Iterator[tuple[str, str]]:
    if args.sample:
        yield SAMPLE, stack.enter_context(sample_path())
    yield from ((path, path) for path in (args.files or ([] if args.sample else ["-"])))


def _count(
    sources: list[tuple[str, str]],
    args: argparse.Namespace,
    remove_list: TextIO | None,
    countries: Callable[[str], str] | None,
    err: TextIO,
) -> tuple[Report, int]:
    report = Report(
        on_remove=None if remove_list is None else number_writer(remove_list, args.remove_list),
        countries=countries,
    )
    progress = not args.quiet and err.isatty()
    status = 0
    for name, path in sources:
        show = functools.partial(_with_progress, err=err, enabled=progress)
        problem = count_part(Part(name, path), report, show)
        if problem is not None:
            # Counted so far stays counted: the report covers what was read.
            print(f"dlrkit report: {printable(name)}: {problem}", file=err)
            status = 1
    return report, status


def _count_in_parallel(
    sources: list[tuple[str, str]],
    args: argparse.Namespace,
    remove_list: TextIO | None,
    countries: Callable[[str], str] | None,
    err: TextIO,
    stack: contextlib.ExitStack,
) -> tuple[Report, int]:
    parts = plan(sources, args.jobs)
    remove_paths = None
    if remove_list is not None:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="dlrkit-"))
        remove_paths = [os.path.join(scratch, f"{i}.txt") for i in range(len(parts))]
    report = Report(countries=countries)
    status = 0
    lines_before: dict[str, int] = {}  # lines of a file in the parts before this one
    progress = not args.quiet and err.isatty()
    results = run_parts(parts, args.jobs, remove_paths, countries is not None)
    for done, (part, counted, problem) in enumerate(results, 1):
        offset = lines_before.get(part.name, 0)
        counted.first_errors = [(s, n + offset, e) for s, n, e in counted.first_errors]
        lines_before[part.name] = offset + counted.lines
        report = report + counted
        if remove_paths is not None and remove_list is not None:
            with open(remove_paths[done - 1], encoding="utf-8") as numbers:
                shutil.copyfileobj(numbers, remove_list)
        if problem is not None:
            print(f"dlrkit report: {printable(part.name)}: {problem}", file=err)
            status = 1
        if progress:
            err.write(f"\r{done:,} of {len(parts):,} parts counted")
            err.flush()
    if progress:
        err.write("\r\x1b[K")
    return report, status


def _why(error: OSError) -> str:
    return printable(error.strerror or str(error))


def _with_progress(
    lines: Iterable[LogLine],
    size: int | None = None,
    position: Callable[[], int] | None = None,
    *,
    err: TextIO,
    enabled: bool,
    interval: float = 0.5,
) -> Iterator[LogLine]:
    """*lines*, showing on a terminal how far the reading is: lines, speed, and with the
    file's *size* and *position* (bytes on disk, compressed for .gz) percent and time left.
    """
    if not enabled:
        yield from lines
        return
    start = time.monotonic()
    shown = start
    for number, line in enumerate(lines, 1):
        if not number % 8192:
            now = time.monotonic()
            if now - shown >= interval:
                err.write("\r" + _progress(number, now - start, size, position))
                err.flush()
                shown = now
        yield line
    err.write("\r\x1b[K")


def _progress(
    lines: int, elapsed: float, size: int | None, position: Callable[[], int] | None
) -> str:
    text = f"{lines:,} lines ({lines / elapsed:,.0f}/s)"
    if size and position is not None:
        done = min(position() / size, 1.0)
        if done > 0:
            left = elapsed * (1 - done) / done
            text = f"{done:4.0%} {text}, about {_duration(round(left))} left"
    return text + "\x1b[K"


def _parse(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    limit = MAX_LINE
    try:
        if args.file == "-":
            if _stdin_is_terminal():
                print("dlrkit parse: reading one payload from stdin (Ctrl-D to end)", file=err)
            payload = stdin_bytes().read(limit + 1)
        else:
            with open(args.file, "rb") as handle:
                payload = handle.read(limit + 1)  # never more: one payload is at most this
    except OSError as error:
        print(f"dlrkit parse: cannot read {printable(args.file)}: {_why(error)}", file=err)
        return 1
    if payload.startswith(b"\x1f\x8b"):
        print(
            "dlrkit parse: the input looks gzipped: decompress it first "
            "(zcat FILE | dlrkit parse), or use dlrkit report for a log",
            file=err,
        )
        return 1
    if len(payload) > limit:
        print(f"dlrkit parse: input is longer than {limit:,} bytes: not one receipt", file=err)
        return 1
    try:
        text = payload.strip()
        if text.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark, as editors write
            text = text[3:].lstrip()
        receipt = parse_json(text) if text.startswith(b"{") else parse_query(text)
    except DlrError as error:
        print(f"dlrkit parse: {printable(str(error))}", file=err)
        return 1
    verdict = classify(receipt)
    json.dump({"receipt": receipt_json(receipt), "verdict": verdict_json(verdict)}, out, indent=2)
    out.write("\n")
    return 0


def receipt_json(receipt: DeliveryReceipt) -> dict[str, object]:
    """A receipt as JSON-ready data: typed values in their plain forms."""
    data: dict[str, object] = {}
    for field in attrs.fields(DeliveryReceipt):
        if field.name.startswith("_"):
            continue
        value = getattr(receipt, field.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, (Decimal, DlrStatus)):
            value = str(value)
        elif field.name == "extra":
            value = dict(value)
        data[field.name] = value
    error = receipt.error
    data["error"] = None if error is None else {"name": error.name, "meaning": error.meaning}
    return data


def verdict_json(verdict: Verdict) -> dict[str, object]:
    """A verdict as JSON-ready data."""
    after = verdict.retry_after
    return {
        "action": verdict.action.value,
        "reason": verdict.reason,
        "retry_after_seconds": None if after is None else after.total_seconds(),
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
