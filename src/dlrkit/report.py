"""The delivery report behind ``dlrkit report``, for counting logs from your own code.

A :class:`Report` counts receipts in flat memory and merges: ``a + b`` is
the report of *a*'s lines followed by *b*'s, so a log can be counted in
pieces, in processes or on a cluster (see docs/report-at-scale.md), and
the pieces summed: ``sum(parts, Report())``.
"""

from ._render import CSV_COLUMNS, report_csv, report_html, report_text
from ._report import NetworkCounts, Report, parse_line

__all__ = [
    "CSV_COLUMNS",
    "NetworkCounts",
    "Report",
    "parse_line",
    "report_csv",
    "report_html",
    "report_text",
]
