"""A delivery report over a log of receipts, one receipt a line, in flat memory."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, Final, Protocol, TypeAlias

import attrs

from ._classify import DEFAULT_POLICY, Policy, Verdict, verdict_for
from ._codecs import EXACT
from ._codes import Action, ErrorCode
from ._errors import DlrError, MalformedPayloadError
from ._json import decode_json
from ._parse import read_fields, receipt
from ._receipt import DeliveryReceipt
from ._status import DlrStatus
from ._urlencoded import url_query_fields
from .reports_api import parse_report_record

__all__ = ["LogLine", "Report", "parse_line"]

LogLine: TypeAlias = "str | DlrError"
"""A line of a log, or the error that stands for a line that could not be read."""

NO_NETWORK: Final = "(none)"
OTHER_NETWORK: Final = "(other)"
OTHER_CODE: Final = -1
"""The err-code a report counts codes under once it holds ``max_keys`` combinations."""
_GUIDE_CODES: Final = frozenset(int(code) for code in ErrorCode)
_FINAL: Final = frozenset(s for s in DlrStatus if s.is_final)


class Reportable(Protocol):
    """What a report counts: a receipt, or a Reports API record."""

    @property
    def status(self) -> DlrStatus: ...
    @property
    def err_code(self) -> int | None: ...
    @property
    def network_code(self) -> str | None: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def msisdn(self) -> str | None: ...


def _line_fields(line: str) -> dict[str, str]:
    text = line.strip()
    if text.startswith("\ufeff"):  # a byte order mark, where a file begins
        text = text[1:].lstrip()
    if text.startswith("{"):
        return decode_json(text)
    return url_query_fields(text)


def parse_line(line: str) -> DeliveryReceipt:
    """One log line: a JSON object of wire fields, or a raw query string."""
    return receipt(_line_fields(line))


@attrs.define
class NetworkCounts:
    receipts: int = 0
    final: int = 0
    failed: int = 0  # final and not delivered


@attrs.define
class Report:
    """Counts over a stream of receipts, in memory that stays flat.

    Receipts are counted by (status, err-code, network), never kept: the
    numbers to remove are counted, with a bounded sample kept for display
    (``on_remove`` sees every one). Err-codes and network codes are chosen
    by whoever sends the receipts, so the combinations are bounded too: once
    *max_keys* distinct ones are held, a new combination is counted under
    the network ``(other)``, and under the err-code ``other`` (``OTHER_CODE``)
    unless the guide's table lists its code. Memory stays under a few MB
    whatever the log holds.
    """

    policy: Policy = DEFAULT_POLICY
    max_errors: int = 5
    sample_size: int = 10
    on_remove: Callable[[str], None] | None = None  # sees every number to remove
    max_keys: int = 10_000

    lines: int = 0
    invalid: int = 0
    total_price: Decimal = Decimal(0)
    remove_sample: list[str] = attrs.field(factory=list)
    first_errors: list[tuple[str, DlrError]] = attrs.field(factory=list)
    # Receipts by (status, err-code, network): one count a receipt, from which
    # every breakdown below is derived when it is read.
    _tally: Counter[tuple[DlrStatus, int | None, str]] = attrs.field(factory=Counter, init=False)

    def add(self, receipt: Reportable) -> Verdict:
        """Count one receipt (or Reports API record); returns its verdict."""
        return self._count(
            receipt.status,
            receipt.err_code,
            receipt.network_code,
            receipt.price,
            receipt.msisdn,
        )

    def _count(
        self,
        status: DlrStatus,
        err_code: int | None,
        network_code: str | None,
        price: Decimal | None,
        msisdn: str | None,
    ) -> Verdict:
        key = (status, err_code, network_code or NO_NETWORK)
        tally = self._tally
        count = tally.get(key)
        if count is None:
            if len(tally) >= self.max_keys:
                code = err_code if err_code is None or err_code in _GUIDE_CODES else OTHER_CODE
                key = (status, code, OTHER_NETWORK)
            count = tally.get(key, 0)
        tally[key] = count + 1
        # Interim receipts repeat the part's price: count it once, when final.
        if price is not None and status in _FINAL:
            self.total_price = EXACT.add(self.total_price, price)
        verdict = verdict_for(status, err_code, self.policy)
        if verdict.action is Action.REMOVE_NUMBER and msisdn:
            if len(self.remove_sample) < self.sample_size and msisdn not in self.remove_sample:
                self.remove_sample.append(msisdn)
            if self.on_remove is not None:
                self.on_remove(msisdn)
        return verdict

    @property
    def receipts(self) -> int:
        """Valid receipts counted."""
        return sum(self._tally.values())

    @property
    def by_status(self) -> Counter[DlrStatus]:
        """Receipts by status."""
        counts: Counter[DlrStatus] = Counter()
        for (status, _, _), n in self._tally.items():
            counts[status] += n
        return counts

    @property
    def by_err_code(self) -> Counter[int | None]:
        """Receipts by err-code (None for receipts without one)."""
        counts: Counter[int | None] = Counter()
        for (_, code, _), n in self._tally.items():
            counts[code] += n
        return counts

    @property
    def by_action(self) -> Counter[Action]:
        """Receipts by the action of their verdict under ``policy``."""
        counts: Counter[Action] = Counter()
        for (status, code, _), n in self._tally.items():
            counts[verdict_for(status, code, self.policy).action] += n
        return counts

    @property
    def retries_by_err_code(self) -> Counter[int | None]:
        """Receipts whose verdict is RETRY, by err-code."""
        counts: Counter[int | None] = Counter()
        for (status, code, _), n in self._tally.items():
            if verdict_for(status, code, self.policy).action is Action.RETRY:
                counts[code] += n
        return counts

    @property
    def networks(self) -> dict[str, NetworkCounts]:
        """Counts by network code (``NO_NETWORK`` for receipts without one)."""
        networks: dict[str, NetworkCounts] = {}
        for (status, _, name), n in self._tally.items():
            counts = networks.setdefault(name, NetworkCounts())
            counts.receipts += n
            if status in _FINAL:
                counts.final += n
                if status is not DlrStatus.DELIVERED:
                    counts.failed += n
        return networks

    def add_invalid(self, where: str, error: DlrError) -> None:
        self.invalid += 1
        if len(self.first_errors) < self.max_errors:
            self.first_errors.append((where, error))

    def add_lines(self, lines: Iterable[LogLine], name: str = "-") -> None:
        """Count every line of a log; blank lines are skipped, bad ones counted.

        A ``DlrError`` in *lines* stands for a line that could not be read (too
        long, say), and counts as an invalid line. A log whose first line is a
        CSV header naming ``message_id`` and ``status`` (its first line that
        is not blank) is read as a Reports API CSV export instead.
        """
        numbered = enumerate(lines, 1)
        first = True
        for number, line in numbered:
            self.lines += 1
            if type(line) is not str:
                self.add_invalid(f"{name}:{number}", line)  # type: ignore[arg-type]
                first = False
                continue
            if not line or line.isspace():
                continue
            if first and _is_report_header(line):
                self._add_csv(line, numbered, name)
                return
            first = False
            # The parser's checks without building a receipt object: the same
            # lines are invalid as for parse_line(), at a fraction of the cost.
            try:
                values = read_fields(_line_fields(line))[0]
            except DlrError as error:
                self.add_invalid(f"{name}:{number}", error)
            else:
                get = values.get
                self._count(
                    values["status"],
                    values["err_code"],
                    get("network_code"),
                    get("price"),
                    values["msisdn"],
                )

    def _add_csv(self, header: str, numbered: Iterator[tuple[int, LogLine]], name: str) -> None:
        columns = _csv_header(header)
        for number, line in numbered:
            self.lines += 1
            if type(line) is not str:
                self.add_invalid(f"{name}:{number}", line)  # type: ignore[arg-type]
                continue
            if not line or line.isspace():
                continue
            try:
                cells = next(csv.reader([line]))
                if len(cells) != len(columns):
                    raise MalformedPayloadError(
                        f"row has {len(cells)} cells, the header {len(columns)}"
                    )
                record = parse_report_record(dict(zip(columns, cells, strict=True)))
            except (DlrError, csv.Error) as error:
                self.add_invalid(f"{name}:{number}", _as_dlr_error(error))
            else:
                self.add(record)

    @property
    def delivery_rate(self) -> float | None:
        """Delivered receipts over final receipts, or None when none is final."""
        by_status = self.by_status
        final = sum(n for status, n in by_status.items() if status.is_final)
        return by_status[DlrStatus.DELIVERED] / final if final else None

    def top_failing_networks(self, count: int = 5) -> list[tuple[str, NetworkCounts]]:
        """Networks with the most failed final receipts, most first."""
        failing = [(name, n) for name, n in self.networks.items() if n.failed]
        failing.sort(key=lambda item: (-item[1].failed, item[0]))
        return failing[:count]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (``dlrkit report --format json``)."""
        by_action = self.by_action
        return {
            "receipts": self.receipts,
            "invalid": self.invalid,
            "by_status": {s.value: n for s, n in self.by_status.most_common()},
            "by_err_code": {
                _code_label(code): {"count": count, "meaning": _meaning(code)}
                for code, count in self.by_err_code.most_common()
            },
            "by_action": {a.value: n for a, n in by_action.most_common()},
            "by_network": {
                name: n.receipts
                for name, n in sorted(self.networks.items(), key=lambda i: -i[1].receipts)
            },
            "total_price": str(self.total_price),
            "delivery_rate": self.delivery_rate,
            "top_failing_networks": [
                {"network": name, "failed": n.failed, "final": n.final}
                for name, n in self.top_failing_networks()
            ],
            "to_do": {
                "remove_numbers": by_action[Action.REMOVE_NUMBER],
                "remove_sample": list(self.remove_sample),
                "retries_due": by_action[Action.RETRY],
                "retries_by_err_code": {
                    _code_label(c): n for c, n in self.retries_by_err_code.most_common()
                },
                "fix_request": by_action[Action.FIX_REQUEST],
                "contact_support": by_action[Action.CONTACT_SUPPORT],
            },
            "first_invalid": [
                {"where": where, "error": str(error)} for where, error in self.first_errors
            ],
        }


def _csv_header(line: str) -> list[str]:
    # Exports may quote every cell, the header's too, and start with a BOM.
    try:
        return [cell.strip().lower() for cell in next(csv.reader([line.lstrip("\ufeff")]))]
    except (csv.Error, StopIteration):
        return []


def _is_report_header(line: str) -> bool:
    return {"message_id", "status"} <= set(_csv_header(line))


def _as_dlr_error(error: Exception) -> DlrError:
    if isinstance(error, DlrError):
        return error
    return MalformedPayloadError(f"not a CSV row: {error}")


def _code_label(code: int | None) -> str:
    return "none" if code is None else "other" if code == OTHER_CODE else str(code)


def _meaning(code: int | None) -> str:
    if code is None:
        return "no err-code"
    if code == OTHER_CODE:
        return "codes past the report's limit of combinations"
    known = ErrorCode.lookup(code)
    return known.meaning if known is not None else "not in the guide's table"
