"""The ``dlrkit`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ._classify import DEFAULT_POLICY, STATUS_ACTIONS, Policy
from ._codes import Action, ErrorCode
from ._report import Summary, open_log, sample_log
from ._status import DlrStatus
from ._version import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args, sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


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
        "report", help="summarise a log of receipts (one JSON object or query string a line)"
    )
    report.add_argument("files", nargs="*", metavar="FILE", help="log files; - for stdin; .gz ok")
    report.add_argument("--sample", action="store_true", help="use the bundled sample log")
    report.set_defaults(run=_report)
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
    if text.isdigit() and text.isascii() and len(text) <= 10:
        return _code_facts(int(text), policy)
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
    summary = Summary()
    if args.sample:
        with sample_log() as lines:
            summary.add_lines(lines)
    if not args.files and not args.sample:
        args.files = ["-"]
    for path in args.files:
        try:
            with open_log(path) as lines:
                summary.add_lines(lines)
        except OSError as error:
            print(f"dlrkit report: cannot read {path}: {error.strerror or error}", file=err)
            return 1
    for line_number, problem in summary.first_errors:
        print(f"dlrkit report: line {line_number}: {problem}", file=err)
    _print_summary(summary, out)
    return 0


def _print_summary(summary: Summary, out: TextIO) -> None:
    print(f"receipts: {summary.receipts}   invalid lines: {summary.invalid}", file=out)
    rate = summary.delivery_rate
    print(f"delivery rate: {'n/a' if rate is None else f'{rate:.1%}'}", file=out)
    print(f"total price (final receipts): {summary.total_price}", file=out)
    print("\nby status:", file=out)
    for status, count in summary.by_status.most_common():
        print(f"  {status.value:<10} {count:>8}", file=out)
    print("\nby err-code:", file=out)
    for code, count in summary.by_err_code.most_common():
        known = ErrorCode.lookup(code)
        meaning = known.meaning if known is not None else "(not in the guide's table)"
        print(f"  {code:>4} {count:>8}  {meaning}", file=out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
