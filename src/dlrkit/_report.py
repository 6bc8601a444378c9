"""A delivery summary over a log of receipts, one receipt a line."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import resources
from typing import TextIO

import attrs

from ._errors import DlrError
from ._parse import parse_json, parse_query
from ._receipt import DeliveryReceipt
from ._status import DlrStatus

__all__ = ["Summary", "open_log", "parse_line", "sample_log"]

SAMPLE_LOG = "sample-dlr.jsonl.gz"


def parse_line(line: str) -> DeliveryReceipt:
    """One log line: a JSON object of wire fields, or a raw query string."""
    text = line.strip()
    if text.startswith("{"):
        return parse_json(text)
    return parse_query(text)


@attrs.define
class Summary:
    """Counts over a stream of receipts; memory does not grow with the stream."""

    receipts: int = 0
    invalid: int = 0
    by_status: Counter[DlrStatus] = attrs.field(factory=Counter)
    by_err_code: Counter[int] = attrs.field(factory=Counter)
    total_price: Decimal = Decimal(0)
    first_errors: list[tuple[int, DlrError]] = attrs.field(factory=list)
    max_errors: int = 5

    def add(self, receipt: DeliveryReceipt) -> None:
        self.receipts += 1
        self.by_status[receipt.status] += 1
        self.by_err_code[receipt.err_code] += 1
        # Interim receipts repeat the part's price: count it once, when final.
        if receipt.price is not None and receipt.status.is_final:
            self.total_price += receipt.price

    def add_invalid(self, line_number: int, error: DlrError) -> None:
        self.invalid += 1
        if len(self.first_errors) < self.max_errors:
            self.first_errors.append((line_number, error))

    def add_lines(self, lines: Iterable[str]) -> None:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                receipt = parse_line(line)
            except DlrError as error:
                self.add_invalid(number, error)
            else:
                self.add(receipt)

    @property
    def delivery_rate(self) -> float | None:
        """Delivered receipts over final receipts, or None when none is final."""
        final = sum(n for status, n in self.by_status.items() if status.is_final)
        return self.by_status[DlrStatus.DELIVERED] / final if final else None


@contextmanager
def open_log(path: str, stdin: TextIO | None = None) -> Iterator[TextIO]:
    """Open a log file as text: ``-`` is stdin, ``.gz`` files are decompressed."""
    if path == "-":
        import sys

        yield stdin if stdin is not None else sys.stdin
        return
    # errors="replace": one bad byte makes one invalid line, not a failed report.
    if path.endswith(".gz"):
        stream: TextIO = gzip.open(path, "rt", encoding="utf-8", errors="replace")  # noqa: SIM115
    else:
        stream = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    with stream:
        yield stream


@contextmanager
def sample_log() -> Iterator[TextIO]:
    """The realistic sample log bundled with dlrkit."""
    resource = resources.files("dlrkit") / "data" / SAMPLE_LOG
    with resources.as_file(resource) as path, open_log(str(path)) as lines:
        yield lines
