"""The report as a CSV file: one row per period under a header row, the JSON's fields flattened (a counted
figure `payoutsCompleted: {count, amount}` becomes `payoutsCompletedCount`, `payoutsCompletedAmount`), so a
spreadsheet column means what the JSON field means. The totals are left to the spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

from laura.mobility.finance.schemas import FinancialReportOut


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update({key + sub[:1].upper() + sub[1:]: v for sub, v in value.items()})
        else:
            flat[key] = value
    return flat


def report_csv(report: FinancialReportOut) -> str:
    rows = [_flat(p.model_dump(mode="json", by_alias=True)) for p in report.periods]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
