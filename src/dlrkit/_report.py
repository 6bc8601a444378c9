"""A delivery report over a log of receipts: bounded, mergeable counts, no I/O.

Every part of a :class:`Report` is a count or a bounded sample, and two
reports of consecutive parts of a log merge (``a + b``) into exactly the
report of the whole, so that a log can be counted in pieces: in processes
(``dlrkit report --jobs``) or on a cluster (docs/report-at-scale.md).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol, TypeAlias, TypeVar

import attrs

from ._classify import DEFAULT_POLICY, Policy, Verdict, verdict_for
from ._codecs import EXACT, price_text
from ._codes import Action, ErrorCode
from ._errors import DlrError, MalformedPayloadError
from ._fields import FIELDS
from ._json import decode_json
from ._parse import receipt
from ._receipt import DeliveryReceipt
from ._status import DlrStatus
from ._table import Table
from ._urlencoded import url_query_fields
from .reports_api import parse_report_record

__all__ = ["LogLine", "NetworkCounts", "Report", "parse_line"]

LogLine: TypeAlias = "str | DlrError"
"""A line of a log, or the error that stands for a line that could not be read."""

NO_NETWORK: Final = "(none)"
OTHER_NETWORK: Final = "(other)"
UNKNOWN_COUNTRY: Final = "(unknown)"
OTHER_CODE: Final = -1
"""The err-code a report counts codes under once it holds ``max_keys`` combinations."""
OTHER_CURRENCY: Final = "(other)"
MAX_NETWORK: Final = 32
"""Longer network codes are no MCCMNC or label: counted under ``(other)``."""
_MAX_CURRENCIES: Final = 20
_ZERO: Final = Decimal(0)
_GUIDE_CODES: Final = frozenset(int(code) for code in ErrorCode)
_FINAL: Final = frozenset(s for s in DlrStatus if s.is_final)
# Interim receipts (accepted, buffered) carry err-code 0 without meaning it.
_INTERIM: Final = frozenset({DlrStatus.ACCEPTED, DlrStatus.BUFFERED})
# The receipt's table less the scts date, which a report does not count and which
# never makes a line invalid (scts_or_none raises nothing): the same lines are
# refused, with the same errors, as by parse_line(); a test holds the two alike.
_COUNTED: Final = Table(*(s._replace(decode=None) if s.wire == "scts" else s for s in FIELDS))

K = TypeVar("K", bound=Hashable)


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
    @property
    def message_timestamp(self) -> datetime | None: ...


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
    """Receipts of one network (or country): all, final, and final but not delivered."""

    receipts: int = 0
    final: int = 0
    failed: int = 0


def _bump(counter: Counter[K], key: K, n: int, limit: int, fold: Callable[[K], K]) -> None:
    """Add *n* to *key*, or, once *counter* holds *limit* keys, to ``fold(key)``."""
    count = counter.get(key)
    if count is None:
        if len(counter) >= limit:
            key = fold(key)
        count = counter.get(key, 0)
    counter[key] = count + n


def _fold_tally(key: tuple[DlrStatus, int | None, str]) -> tuple[DlrStatus, int | None, str]:
    status, code, _ = key
    return status, (code if code is None or code in _GUIDE_CODES else OTHER_CODE), OTHER_NETWORK


def _fold_hour(key: tuple[int | None, DlrStatus]) -> tuple[int | None, DlrStatus]:
    return None, key[1]


def _fold_country(key: tuple[str, DlrStatus]) -> tuple[str, DlrStatus]:
    return UNKNOWN_COUNTRY, key[1]


def _fold_currency(key: str | None) -> str | None:
    return OTHER_CURRENCY


@attrs.define(eq=False)
class Report:
    """Counts over a stream of receipts, in memory that stays flat.

    Receipts are counted, never kept: by (status, err-code, network); by
    hour of their ``message_timestamp`` and status; by destination country
    and status (with *countries*, a lookup from the optional ``geo`` extra);
    and their prices, by currency. The numbers to remove are counted, with a
    bounded sample kept for display (``on_remove`` sees every one).

    Err-codes, networks and dates are chosen by whoever sends the receipts,
    so each count is bounded by *max_keys* distinct keys: past it, a new
    combination is counted under the network ``(other)`` and the err-code
    ``other`` (``OTHER_CODE``, unless the guide lists its code), a new hour
    under "no hour", a new country under ``(unknown)``. A network code of
    more than 32 characters (no MCCMNC or label is) is ``(other)`` too. So a
    report holds at most about 4 * *max_keys* small keys: a few MB.

    ``a + b`` is the report of *a*'s input followed by *b*'s, exactly (as
    long as neither part reached *max_keys*): the counts add, the samples
    and first errors are *a*'s followed by *b*'s. A source's line numbers
    in ``first_errors`` count from its own first line.
    """

    policy: Policy = DEFAULT_POLICY
    max_errors: int = 5
    sample_size: int = 10
    on_remove: Callable[[str], None] | None = None  # sees every number to remove
    max_keys: int = 10_000
    countries: Callable[[str], str] | None = None  # msisdn -> country code

    lines: int = 0
    invalid: int = 0
    remove_sample: list[str] = attrs.field(factory=list)
    first_errors: list[tuple[str, int, DlrError]] = attrs.field(factory=list)
    # Receipts by (status, err-code, network): one count a receipt, from which
    # every breakdown below is derived when it is read.
    _tally: Counter[tuple[DlrStatus, int | None, str]] = attrs.field(factory=Counter)
    _timeline: Counter[tuple[int | None, DlrStatus]] = attrs.field(factory=Counter)
    _by_country: Counter[tuple[str, DlrStatus]] = attrs.field(factory=Counter)
    # Prices of final receipts, by currency (None: the receipt names none).
    _prices: dict[str | None, Decimal] = attrs.field(factory=dict)

    # -- counting -----------------------------------------------------------------------------

    def add(self, receipt: Reportable, currency: str | None = None) -> Verdict:
        """Count one receipt (or Reports API record); returns its verdict."""
        return self._count(
            receipt.status,
            receipt.err_code,
            receipt.network_code,
            receipt.price,
            receipt.msisdn,
            receipt.message_timestamp,
            currency,
        )

    def _count(
        self,
        status: DlrStatus,
        err_code: int | None,
        network_code: str | None,
        price: Decimal | None,
        msisdn: str | None,
        when: datetime | None,
        currency: str | None = None,
    ) -> Verdict:
        limit = self.max_keys
        network = network_code or NO_NETWORK
        if len(network) > MAX_NETWORK:
            network = OTHER_NETWORK
        # _bump() inline for a key already counted, the usual case.
        tally, key = self._tally, (status, err_code, network)
        count = tally.get(key)
        if count is None:
            _bump(tally, key, 1, limit, _fold_tally)
        else:
            tally[key] = count + 1
        hour = None if when is None else int(when.timestamp()) // 3600
        timeline, moment = self._timeline, (hour, status)
        count = timeline.get(moment)
        if count is None:
            _bump(timeline, moment, 1, limit, _fold_hour)
        else:
            timeline[moment] = count + 1
        if self.countries is not None:
            country = self.countries(msisdn) if msisdn else UNKNOWN_COUNTRY
            _bump(self._by_country, (country, status), 1, limit, _fold_country)
        # Interim receipts repeat the part's price: count it once, when final.
        if price is not None and status in _FINAL:
            self._add_price(currency, price)
        verdict = verdict_for(status, err_code, self.policy)
        if verdict.action is Action.REMOVE_NUMBER and msisdn:
            if len(self.remove_sample) < self.sample_size and msisdn not in self.remove_sample:
                self.remove_sample.append(msisdn)
            if self.on_remove is not None:
                self.on_remove(msisdn)
        return verdict

    def _add_price(self, currency: str | None, price: Decimal) -> None:
        prices = self._prices
        if currency not in prices and len(prices) >= _MAX_CURRENCIES:
            currency = _fold_currency(currency)
        prices[currency] = EXACT.add(prices.get(currency, _ZERO), price)

    def add_invalid(self, source: str, line: int, error: DlrError) -> None:
        """Count an invalid line (its *line* number counts from its *source*'s first)."""
        self.invalid += 1
        if len(self.first_errors) < self.max_errors:
            self.first_errors.append((source, line, error))

    def add_lines(
        self, lines: Iterable[LogLine], name: str = "-", *, csv_header: str | None = None
    ) -> None:
        """Count every line of a log; blank lines are skipped, bad ones counted.

        A ``DlrError`` in *lines* stands for a line that could not be read (too
        long, say), and counts as an invalid line. A log whose first line that
        is not blank is a CSV header naming ``message_id`` and ``status`` is
        read as a Reports API CSV export instead; *csv_header* gives that
        header for a piece of an export that does not start with it.
        """
        numbered = enumerate(lines, 1)
        if csv_header is not None:
            self._add_csv(csv_header, numbered, name)
            return
        first = True
        for number, line in numbered:
            self.lines += 1
            if type(line) is not str:
                self.add_invalid(name, number, line)  # type: ignore[arg-type]
                first = False
                continue
            if not line or line.isspace():
                continue
            if first and is_report_header(line):
                self._add_csv(line, numbered, name)
                return
            first = False
            # The parser's checks without building a receipt object: the same
            # lines are invalid as for parse_line(), at a fraction of the cost.
            try:
                values = _COUNTED.read(_line_fields(line))[0]
            except DlrError as error:
                self.add_invalid(name, number, error)
            else:
                get = values.get
                self._count(
                    values["status"],
                    values["err_code"],
                    get("network_code"),
                    get("price"),
                    values["msisdn"],
                    get("message_timestamp"),
                )

    def _add_csv(self, header: str, numbered: Iterator[tuple[int, LogLine]], name: str) -> None:
        columns = _csv_header(header)
        for number, line in numbered:
            self.lines += 1
            if type(line) is not str:
                self.add_invalid(name, number, line)  # type: ignore[arg-type]
                continue
            if not line or line.isspace() or line.strip() == header.strip():
                continue
            try:
                cells = next(csv.reader([line]))
                if len(cells) != len(columns):
                    raise MalformedPayloadError(
                        f"row has {len(cells)} cells, the header {len(columns)}"
                    )
                record = parse_report_record(dict(zip(columns, cells, strict=True)))
            except (DlrError, csv.Error) as error:
                self.add_invalid(name, number, _as_dlr_error(error))
            else:
                self.add(record, record.currency)

    # -- merging ------------------------------------------------------------------------------

    def __add__(self, other: Report) -> Report:
        """The report of this report's input followed by *other*'s (see the class)."""
        if not isinstance(other, Report):
            return NotImplemented
        merged = Report(
            policy=self.policy,
            max_errors=self.max_errors,
            sample_size=self.sample_size,
            max_keys=self.max_keys,
            countries=self.countries,
        )
        for part in (self, other):
            merged._merge(part)
        return merged

    def _merge(self, other: Report) -> None:
        limit = self.max_keys
        self.lines += other.lines
        self.invalid += other.invalid
        # Each count in the order its keys were first seen, as one pass would meet them.
        for key, n in other._tally.items():
            _bump(self._tally, key, n, limit, _fold_tally)
        for hour, n in other._timeline.items():
            _bump(self._timeline, hour, n, limit, _fold_hour)
        for country, n in other._by_country.items():
            _bump(self._by_country, country, n, limit, _fold_country)
        for currency, price in other._prices.items():
            self._add_price(currency, price)
        for number in other.remove_sample:
            if len(self.remove_sample) < self.sample_size and number not in self.remove_sample:
                self.remove_sample.append(number)
        room = self.max_errors - len(self.first_errors)
        self.first_errors += other.first_errors[: max(room, 0)]

    # -- reading ------------------------------------------------------------------------------

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
        """Receipts by err-code (None for none), interim ones (accepted, buffered) left out.

        An interim receipt's err-code 0 does not mean "Delivered".
        """
        counts: Counter[int | None] = Counter()
        for (status, code, _), n in self._tally.items():
            if status not in _INTERIM:
                counts[code] += n
        return counts

    @property
    def interim(self) -> int:
        """Interim receipts (accepted, buffered): not final, and no err-code to read."""
        return sum(n for (status, _, _), n in self._tally.items() if status in _INTERIM)

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
        return _breakdown((name, status, n) for (status, _, name), n in self._tally.items())

    @property
    def by_country(self) -> dict[str, NetworkCounts]:
        """Counts by destination country (ISO code); empty without a *countries* lookup."""
        return _breakdown((country, status, n) for (country, status), n in self._by_country.items())

    @property
    def timeline(self) -> dict[int, NetworkCounts]:
        """Counts by hour of ``message_timestamp`` (unix hours), in time order."""
        hours = _breakdown((hour, status, n) for (hour, status), n in self._timeline.items())
        return {hour: hours[hour] for hour in sorted(h for h in hours if h is not None)}

    @property
    def untimed(self) -> int:
        """Receipts without a ``message_timestamp`` (or past ``max_keys`` hours)."""
        return sum(n for (hour, _), n in self._timeline.items() if hour is None)

    @property
    def total_price(self) -> Decimal:
        """The exact sum of the final receipts' prices, whatever their currency."""
        total = Decimal(0)
        for price in self._prices.values():
            total = EXACT.add(total, price)
        return total

    @property
    def prices(self) -> dict[str | None, Decimal]:
        """The final receipts' prices by currency (None: receipts that name none)."""
        return dict(self._prices)

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
        data: dict[str, Any] = {
            "lines": self.lines,
            "receipts": self.receipts,
            "invalid": self.invalid,
            "interim": self.interim,
            "by_status": {s.value: n for s, n in self.by_status.most_common()},
            "by_err_code": {
                code_label(code): {"count": count, "meaning": meaning(code)}
                for code, count in self.by_err_code.most_common()
            },
            "by_action": {a.value: n for a, n in by_action.most_common()},
            "by_network": {
                name: n.receipts
                for name, n in sorted(self.networks.items(), key=lambda i: -i[1].receipts)
            },
            "total_price": price_text(self.total_price),
            "prices": {
                currency or "": price_text(price) for currency, price in self._prices.items()
            },
            "delivery_rate": self.delivery_rate,
            "top_failing_networks": [
                {"network": name, "failed": n.failed, "final": n.final}
                for name, n in self.top_failing_networks()
            ],
            "timeline": [
                {"hour": hour * 3600, "receipts": n.receipts, "final": n.final, "failed": n.failed}
                for hour, n in self.timeline.items()
            ],
            "untimed": self.untimed,
            "to_do": {
                "remove_numbers": by_action[Action.REMOVE_NUMBER],
                "remove_sample": list(self.remove_sample),
                "retries_due": by_action[Action.RETRY],
                "retries_by_err_code": {
                    code_label(c): n for c, n in self.retries_by_err_code.most_common()
                },
                "fix_request": by_action[Action.FIX_REQUEST],
                "contact_support": by_action[Action.CONTACT_SUPPORT],
            },
            "first_invalid": [
                {"where": f"{source}:{line}", "error": str(error)}
                for source, line, error in self.first_errors
            ],
        }
        if self.countries is not None:
            data["by_country"] = {
                name: {"receipts": n.receipts, "final": n.final, "failed": n.failed}
                for name, n in sorted(self.by_country.items(), key=lambda i: -i[1].receipts)
            }
        return data


def _breakdown(rows: Iterable[tuple[Any, DlrStatus, int]]) -> dict[Any, NetworkCounts]:
    counts: dict[Any, NetworkCounts] = {}
    for key, status, n in rows:
        entry = counts.setdefault(key, NetworkCounts())
        entry.receipts += n
        if status in _FINAL:
            entry.final += n
            if status is not DlrStatus.DELIVERED:
                entry.failed += n
    return counts


def _csv_header(line: str) -> list[str]:
    # Exports may quote every cell, the header's too, and start with a BOM.
    try:
        return [cell.strip().lower() for cell in next(csv.reader([line.lstrip("\ufeff")]))]
    except (csv.Error, StopIteration):
        return []


def is_report_header(line: str) -> bool:
    """True for the header line of a Reports API CSV export."""
    return {"message_id", "status"} <= set(_csv_header(line))


def _as_dlr_error(error: Exception) -> DlrError:
    if isinstance(error, DlrError):
        return error
    return MalformedPayloadError(f"not a CSV row: {error}")


def code_label(code: int | None) -> str:
    """An err-code as a report labels it: ``none``, ``other`` or the number."""
    return "none" if code is None else "other" if code == OTHER_CODE else str(code)


def meaning(code: int | None) -> str:
    """What an err-code means, in a few words, as a report shows it."""
    if code is None:
        return "no err-code"
    if code == OTHER_CODE:
        return "codes past the report's limit of combinations"
    known = ErrorCode.lookup(code)
    return known.meaning if known is not None else "not in the guide's table"
