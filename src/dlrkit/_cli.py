"""The ``dlrkit`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import sys
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TextIO

import attrs

from ._classify import DEFAULT_POLICY, STATUS_ACTIONS, Policy, Verdict, classify
from ._codecs import err_code_or_none
from ._codes import Action, ErrorCode
from ._errors import DlrError
from ._logs import MAX_LINE, log_lines, open_log, sample_log
from ._parse import parse_json, parse_query
from ._receipt import DeliveryReceipt
from ._report import LogLine, Report, _code_label, _meaning
from ._status import DlrStatus
from ._version import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see docs/cli.md).

    0 done; 1 an input could not be read, or (``parse``) was not a receipt;
    2 a usage error; 70 an internal error (a bug: one line, no traceback);
    130 interrupted.
    """
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
    except OSError as error:
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


def printable(text: str) -> str:
    """*text* with control and format characters shown as escapes (``\\x1b``, ``\\n``).

    What a log holds was chosen by whoever sent the receipts: an ANSI escape
    in a network code must not reach the terminal, and a newline in a number
    must not make two lines of a list.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    report.add_argument("--format", choices=("text", "json"), default="text")
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


def _explanation_text(facts: dict[str, object]) -> str:
    if facts["kind"] == "status":
        lines = [
            f"status {facts['status']}: {facts['description']}",
            f"  final: {'yes' if facts['final'] else 'no'}",
        ]
    elif facts["in_guide"]:
        lines = [
            f"err-code {facts['code']}: {facts['meaning']} ({facts['name']})",
            f"  {facts['description']}",
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


def _report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    remove_list: TextIO | None = None
    if args.remove_list:
        try:
            remove_list = open(args.remove_list, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as error:
            print(f"dlrkit report: cannot write {args.remove_list}: {_why(error)}", file=err)
            return 1

    def write_number(msisdn: str) -> None:
        assert remove_list is not None
        remove_list.write(printable(msisdn) + "\n")  # one receipt, one line

    report = Report(on_remove=write_number if remove_list is not None else None)
    progress = not args.quiet and err.isatty()
    paths = list(args.files) if args.files or args.sample else ["-"]
    sources = [("sample", sample_log)] if args.sample else []
    sources += [(path, functools.partial(open_log, path)) for path in paths]
    status = 0
    try:
        for name, opener in sources:
            try:
                with opener() as stream:
                    report.add_lines(_with_progress(log_lines(stream), err, progress), name)
            except (OSError, EOFError, zlib.error) as error:
                # Counted so far stays counted: the report covers what was read.
                print(f"dlrkit report: {printable(name)}: {_unreadable(error)}", file=err)
                status = 1
    finally:
        if remove_list is not None:
            remove_list.close()
    for where, problem in report.first_errors:
        print(f"dlrkit report: {printable(where)}: {printable(str(problem))}", file=err)
    if report.invalid > len(report.first_errors):
        print(f"dlrkit report: ... {report.invalid:,} invalid lines in all", file=err)
    if args.format == "json":
        json.dump(report.to_json(), out, indent=2)
        out.write("\n")
    else:
        out.write(_report_text(report))
    return status


def _unreadable(error: Exception) -> str:
    if isinstance(error, EOFError):
        return "the compressed file ends too soon (truncated?); the report covers what was read"
    if isinstance(error, (zlib.error, gzip.BadGzipFile)):
        return f"not a valid gzip file ({error}); the report covers what was read"
    assert isinstance(error, OSError)
    return f"cannot read: {_why(error)}"


def _why(error: OSError) -> str:
    return printable(error.strerror or str(error))


def _with_progress(
    lines: Iterable[LogLine], err: TextIO, enabled: bool, interval: float = 0.5
) -> Iterator[LogLine]:
    if not enabled:
        yield from lines
        return
    start = time.monotonic()
    shown = start
    for number, line in enumerate(lines, 1):
        if not number % 8192:
            now = time.monotonic()
            if now - shown >= interval:
                err.write(f"\r{number:,} lines ({number / (now - start):,.0f}/s)")
                err.flush()
                shown = now
        yield line
    if enabled:
        err.write("\r\x1b[K")


def _report_text(report: Report) -> str:
    rate = report.delivery_rate
    lines = [
        f"receipts       {report.receipts:>10,}",
        f"invalid lines  {report.invalid:>10,}",
        f"delivery rate  {'n/a' if rate is None else f'{rate:.1%}':>10}   (delivered / final)",
        f"total price    {report.total_price:>10}   (exact, final receipts)",
        "",
        "by status",
        *(f"  {status.value:<12} {n:>10,}" for status, n in report.by_status.most_common()),
        "",
        "by err-code",
        *(
            f"  {_code_label(code):>4} {n:>10,}  {_meaning(code)}"
            for code, n in report.by_err_code.most_common()
        ),
        "",
        "by action",
        *(f"  {a.value:<16} {n:>8,}" for a, n in report.by_action.most_common()),
        "",
        "by network (MCCMNC)",
        *(
            f"  {printable(name):<14} {n.receipts:>8,}"
            for name, n in sorted(report.networks.items(), key=lambda i: -i[1].receipts)
        ),
    ]
    failing = report.top_failing_networks()
    if failing:
        lines += ["", "top failing networks (failed / final receipts)"]
        lines += [
            f"  {printable(name):<14} {n.failed:>8,} / {n.final:<8,} {n.failed / n.final:6.1%}"
            for name, n in failing
        ]
    to_do = report.to_json()["to_do"]
    lines += ["", "what to do"]
    if to_do["remove_numbers"]:
        sample = ", ".join(printable(number) for number in to_do["remove_sample"])
        lines.append(f"  remove numbers    {to_do['remove_numbers']:>8,}   e.g. {sample}")
    if to_do["retries_due"]:
        codes = ", ".join(f"{c}: {n}" for c, n in to_do["retries_by_err_code"].items())
        lines.append(f"  retries due       {to_do['retries_due']:>8,}   by err-code {codes}")
    if to_do["fix_request"]:
        lines.append(f"  fix the request   {to_do['fix_request']:>8,}   see dlrkit explain CODE")
    if to_do["contact_support"]:
        lines.append(f"  contact support   {to_do['contact_support']:>8,}")
    if lines[-1] == "what to do":
        lines.append("  nothing")
    return "\n".join(lines) + "\n"


def _parse(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    limit = MAX_LINE
    try:
        if args.file == "-":
            payload = sys.stdin.buffer.read(limit + 1)
        else:
            with open(args.file, "rb") as handle:
                payload = handle.read(limit + 1)  # never more: one payload is at most this
    except OSError as error:
        print(f"dlrkit parse: cannot read {printable(args.file)}: {_why(error)}", file=err)
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
