"""The ``dlrkit`` command line: a thin layer over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from ._codes import ErrorCode
from ._report import Summary, open_log, sample_log
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

    report = commands.add_parser(
        "report", help="summarise a log of receipts (one JSON object or query string a line)"
    )
    report.add_argument("files", nargs="*", metavar="FILE", help="log files; - for stdin; .gz ok")
    report.add_argument("--sample", action="store_true", help="use the bundled sample log")
    report.set_defaults(run=_report)
    return parser


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
