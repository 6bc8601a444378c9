"""The Reports API's SMS records, from a CSV export or JSON, in dlrkit's vocabulary.

``dlrkit report`` reads a CSV export directly; :func:`parse_report_record`
reads one row or object. ``status`` is a :class:`~dlrkit.DlrStatus`, so
``dlrkit.classify`` accepts a :class:`ReportRecord` like a receipt.
"""

from ._record import REPORT_COLUMNS, ReportRecord, parse_report_record

__all__ = ["REPORT_COLUMNS", "ReportRecord", "parse_report_record"]
