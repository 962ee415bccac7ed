"""The financial report's refusals: a range it cannot answer is a 422 saying which bound is wrong."""

from __future__ import annotations

from laura.core.errors import AppError


class ReportRangeInvalid(AppError):
    """`to` before `from`, or a range longer than the cap of its `groupBy` (the report is one query over the
    range: an unbounded one would read the whole ledger)."""

    error = "REPORT_RANGE_INVALID"
    status = 422
    code = "FIN_001"
    message = "The report's date range is invalid"
