"""A report as text, CSV or one self-contained HTML page: pure functions, no I/O.

Every value a sender chose (a network code, a number) is escaped for where
it goes: control characters shown as escapes on a terminal, HTML-escaped in
the page, quoted as CSV quotes.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Final

from ._codecs import price_text
from ._report import NetworkCounts, Report, code_label, meaning

__all__ = ["CSV_COLUMNS", "printable", "report_csv", "report_html", "report_text"]


def printable(text: str) -> str:
    """*text* with control and format characters shown as escapes (``\\x1b``, ``\\n``).

    What a log holds was chosen by whoever sent the receipts: an ANSI escape
    in a network code must not reach the terminal, and a newline in a number
    must not make two lines of a list.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _money(prices: dict[str | None, Decimal]) -> str:
    if not prices:
        return "0"
    return ", ".join(
        f"{price:,f}" + (f" {printable(currency)}" if currency else "")
        for currency, price in sorted(prices.items(), key=lambda item: item[0] or "")
    )


# -- text ----------------------------------------------------------------------------------


def report_text(report: Report, *, intentional_invalid: int = 0) -> str:
    """The report as a terminal shows it (``dlrkit report``)."""
    rate = report.delivery_rate
    invalid = f"{report.invalid:>10,}"
    if intentional_invalid and report.invalid:
        invalid += f"   ({intentional_invalid:,} in the sample on purpose)"
    lines = [
        f"receipts       {report.receipts:>10,}",
        f"invalid lines  {invalid}",
        f"delivery rate  {'n/a' if rate is None else f'{rate:.1%}':>10}   (delivered / final)",
        f"total price    {_money(report.prices):>10}   (exact, final receipts)",
        "",
        "by status",
        *(f"  {status.value:<12} {n:>10,}" for status, n in report.by_status.most_common()),
        "",
        "by err-code (final and unknown receipts)",
        *(
            f"  {code_label(code):>5} {n:>10,}  {meaning(code)}"
            for code, n in report.by_err_code.most_common()
        ),
    ]
    if report.interim:
        lines.append(
            f"  {'':>5} {report.interim:>10,}  interim (accepted, buffered): no err-code yet"
        )
    lines += [
        "",
        "by action",
        *(f"  {a.value:<16} {n:>10,}" for a, n in report.by_action.most_common()),
        "",
        "by network (MCCMNC)",
        *_breakdown_lines(report.networks),
    ]
    if report.countries is not None:
        lines += ["", "by destination country", *_breakdown_lines(report.by_country)]
    failing = report.top_failing_networks()
    if failing:
        lines += ["", "top failing networks (failed / final receipts)"]
        lines += [
            f"  {printable(name):<14} {n.failed:>10,} / {n.final:<10,} {n.failed / n.final:6.1%}"
            for name, n in failing
        ]
    to_do = report.to_json()["to_do"]
    lines += ["", "what to do"]
    if to_do["remove_numbers"]:
        sample = ", ".join(printable(number) for number in to_do["remove_sample"])
        lines.append(f"  remove numbers    {to_do['remove_numbers']:>10,}   e.g. {sample}")
    if to_do["retries_due"]:
        codes = ", ".join(f"{c}: {n:,}" for c, n in to_do["retries_by_err_code"].items())
        lines.append(f"  retries due       {to_do['retries_due']:>10,}   by err-code {codes}")
    if to_do["fix_request"]:
        lines.append(f"  fix the request   {to_do['fix_request']:>10,}   see dlrkit explain CODE")
    if to_do["contact_support"]:
        lines.append(f"  contact support   {to_do['contact_support']:>10,}")
    if lines[-1] == "what to do":
        lines.append("  nothing")
    return "\n".join(lines) + "\n"


def _breakdown_lines(counts: dict[str, NetworkCounts]) -> list[str]:
    return [
        f"  {printable(name):<14} {n.receipts:>10,}"
        for name, n in sorted(counts.items(), key=lambda i: (-i[1].receipts, i[0]))
    ]


# -- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS: Final = ("section", "key", "count", "final", "failed", "meaning")
"""The columns of ``dlrkit report --format csv``: one row per entry of each breakdown.

``section`` is ``summary``, ``status``, ``err_code``, ``action``, ``network``,
``country``, ``hour`` or ``price``; ``count`` the receipts (for ``summary``,
the figure named by ``key``; for ``price``, the exact total in ``key``'s
currency); ``final`` and ``failed`` are filled for networks, countries and
hours; ``meaning`` for err-codes.
"""


def report_csv(report: Report) -> str:
    """The report as CSV (``dlrkit report --format csv``), columns :data:`CSV_COLUMNS`."""
    rate = report.delivery_rate
    rows: list[Sequence[object]] = [
        ("summary", "lines", report.lines, "", "", ""),
        ("summary", "receipts", report.receipts, "", "", ""),
        ("summary", "invalid", report.invalid, "", "", ""),
        ("summary", "interim", report.interim, "", "", ""),
        ("summary", "delivery_rate", "" if rate is None else repr(rate), "", "", ""),
        ("summary", "untimed", report.untimed, "", "", ""),
    ]
    rows += [
        ("price", currency or "", price_text(p), "", "", "")
        for currency, p in report.prices.items()
    ]
    rows += [("status", s.value, n, "", "", "") for s, n in report.by_status.most_common()]
    rows += [
        ("err_code", code_label(code), n, "", "", meaning(code))
        for code, n in report.by_err_code.most_common()
    ]
    rows += [("action", a.value, n, "", "", "") for a, n in report.by_action.most_common()]
    for section, counts in (("network", report.networks), ("country", report.by_country)):
        rows += [
            (section, name, n.receipts, n.final, n.failed, "")
            for name, n in sorted(counts.items(), key=lambda i: (-i[1].receipts, i[0]))
        ]
    rows += [
        ("hour", _iso_hour(hour), n.receipts, n.final, n.failed, "")
        for hour, n in report.timeline.items()
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def _iso_hour(hour: int) -> str:
    return datetime.fromtimestamp(hour * 3600, timezone.utc).strftime("%Y-%m-%dT%H:00Z")


# -- HTML ----------------------------------------------------------------------------------

_STYLE: Final = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:62em;padding:0 1em;color:#1d2430}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em}
.cards{display:flex;flex-wrap:wrap;gap:1em;margin:1.2em 0}
.card{border:1px solid #d8dde6;border-radius:8px;padding:.7em 1em;min-width:9em}
.card b{display:block;font-size:1.5em}.muted{color:#5b6577}
table{border-collapse:collapse;margin:.6em 0}td,th{padding:.2em .8em;text-align:right}
td:first-child,th:first-child{text-align:left}tr:nth-child(even){background:#f4f6f9}
svg text{font:12px system-ui,sans-serif;fill:#1d2430}
"""
_BAR: Final = "#3a6ea5"
_FAIL: Final = "#c0392b"
_LINE: Final = "#e67e22"


def report_html(report: Report, *, title: str = "Delivery report") -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, no fetches.

    The page is well-formed XML (XHTML syntax), holds every figure of
    ``report.to_json()`` in tables, and embeds that JSON for scripts
    (``<script type="application/json" id="dlrkit-report">``).
    """
    data = report.to_json()
    rate = report.delivery_rate
    failures_by_code = [
        (f"{code_label(code)} {meaning(code)}", n)
        for code, n in report.by_err_code.most_common()
        if code not in (0, None)
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        '<p class="muted">Made by dlrkit report: every figure below is also in the JSON '
        "at the end of this page.</p>",
        '<div class="cards">',
        _card("receipts", f"{report.receipts:,}"),
        _card("invalid lines", f"{report.invalid:,}"),
        _card("delivery rate", "n/a" if rate is None else f"{rate:.1%}"),
        _card("total price", _money(report.prices)),
        _card("numbers to remove", f"{data['to_do']['remove_numbers']:,}"),
        _card("retries due", f"{data['to_do']['retries_due']:,}"),
        "</div>",
        "<h2>Receipts and delivery rate over time</h2>",
        _timeline_chart(report),
        "<h2>Failures by network</h2>",
        _bar_chart(
            [(name, n.failed) for name, n in report.top_failing_networks(12)], _FAIL, "failed"
        ),
        "<h2>Failures by err-code</h2>",
        _bar_chart(failures_by_code[:12], _FAIL, "receipts"),
        "<h2>Receipts by action</h2>",
        _bar_chart([(a.value, n) for a, n in report.by_action.most_common()], _BAR, "receipts"),
    ]
    if report.countries is not None:
        failing = sorted(report.by_country.items(), key=lambda i: (-i[1].failed, i[0]))
        parts += [
            "<h2>Failures by destination country</h2>",
            _bar_chart([(name, n.failed) for name, n in failing if n.failed][:12], _FAIL, "failed"),
        ]
    parts += [
        "<h2>The figures</h2>",
        _table(("status", "receipts"), [(s, f"{n:,}") for s, n in data["by_status"].items()]),
        _table(
            ("err-code", "receipts", "meaning"),
            [(c, f"{v['count']:,}", v["meaning"]) for c, v in data["by_err_code"].items()],
        ),
        _table(("action", "receipts"), [(a, f"{n:,}") for a, n in data["by_action"].items()]),
        _table(
            ("network", "receipts", "final", "failed"),
            [
                (name, f"{n.receipts:,}", f"{n.final:,}", f"{n.failed:,}")
                for name, n in sorted(report.networks.items(), key=lambda i: (-i[1].receipts, i[0]))
            ],
        ),
        '<script type="application/json" id="dlrkit-report">',
        _e(json.dumps(data, sort_keys=True)),
        "</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _e(text: object) -> str:
    return html.escape(printable(str(text)), quote=True)


def _card(label: str, value: str) -> str:
    return f'<div class="card"><span class="muted">{_e(label)}</span><b>{_e(value)}</b></div>'


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _bar_chart(rows: Sequence[tuple[str, int]], colour: str, unit: str) -> str:
    """Horizontal bars, one a row, labelled with the row's name and count."""
    if not rows:
        return '<p class="muted">None.</p>'
    width, label_width, bar_height = 720, 260, 22
    top = max(n for _, n in rows) or 1
    height = bar_height * len(rows) + 8
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, (name, n) in enumerate(rows):
        y = 4 + i * bar_height
        length = (width - label_width - 90) * n / top
        label = printable(name)
        label = label if len(label) <= 36 else label[:35] + "…"
        svg += [
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{_e(label)}</text>',
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{bar_height - 6}" '
            f'fill="{colour}"><title>{_e(name)}: {n:,} {unit}</title></rect>',
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}">{n:,}</text>',
        ]
    svg.append("</svg>")
    return "".join(svg)


def _timeline_chart(report: Report) -> str:
    """Receipts per hour (or per day, over more than three days) and the delivery rate."""
    hours = report.timeline
    if not hours:
        return '<p class="muted">No receipt has a message-timestamp.</p>'
    step = 1 if max(hours) - min(hours) <= 72 else 24
    buckets: dict[int, list[int]] = {}
    for hour, n in hours.items():
        counts = buckets.setdefault(hour - hour % step, [0, 0, 0])
        counts[0] += n.receipts
        counts[1] += n.final
        counts[2] += n.failed
    keys = sorted(buckets)
    width, height, left, bottom, top_pad = 720, 240, 56, 36, 12
    plot_w, plot_h = width - left - 48, height - bottom - top_pad
    most = max(c[0] for c in buckets.values()) or 1
    bar_w = plot_w / len(keys)
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" '
        'stroke="#98a2b3"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end">{most:,}</text>',
        f'<text x="{left + plot_w + 6}" y="{top_pad + 10}">100%</text>',
        f'<text x="{left + plot_w + 6}" y="{top_pad + plot_h}">0%</text>',
    ]
    points = []
    for i, key in enumerate(keys):
        receipts, final, failed = buckets[key]
        x = left + i * bar_w
        h = plot_h * receipts / most
        when = _iso_hour(key) if step == 1 else _iso_hour(key)[:10]
        svg.append(
            f'<rect x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{_BAR}"><title>{when}: {receipts:,} receipts</title></rect>'
        )
        if final:
            rate = (final - failed) / final
            points.append(f"{x + bar_w / 2:.1f},{top_pad + plot_h * (1 - rate):.1f}")
    if points:
        svg.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{_LINE}" stroke-width="2"/>'
        )
    first, last = _iso_hour(keys[0]), _iso_hour(keys[-1])
    svg += [
        f'<text x="{left}" y="{height - 12}">{first if step == 1 else first[:10]}</text>',
        f'<text x="{left + plot_w}" y="{height - 12}" text-anchor="end">'
        f"{last if step == 1 else last[:10]}</text>",
        "</svg>",
        f'<p class="muted">Bars: receipts per {"hour" if step == 1 else "day"} (UTC); line: '
        f"delivery rate (delivered / final). {report.untimed:,} receipts have no time.</p>",
    ]
    return "".join(svg)
