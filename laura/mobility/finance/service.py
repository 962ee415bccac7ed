"""The admin's financial report, and the drivers' daily balance snapshots.

The report adds nothing up in Python but the totals: each figure is the ledger's (transactions by reason
and account, 'PAYOUT' holds by status) or the Pix books' (charges still open, Pix reconciliation applied),
read in one statement (`repository.report_figures`). So over the same days its figures are the trial
balance's: PIX_A_RECEBER's debits are the fares plus the fees, COMISSAO_PLATAFORMA's credits the
commission, the drivers' accounts the earnings less the completed payouts and the shares forfeited for
fraud, BANCO_CORRENTE's credits the completed payouts (tests/mobility/finance/test_report.py checks it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.money import from_cents
from laura.mobility.finance import repository
from laura.mobility.finance.periods import GroupBy, ReportWindow, local_day
from laura.mobility.finance.repository import FigureRow
from laura.mobility.finance.schemas import CountedAmount, Figures, FinancialReportOut, PeriodFigures

SNAPSHOT_CATCH_UP_DAYS = 7
"""How many missed days (a worker down at the daily run) the next run snapshots, oldest first."""


@dataclass
class _Tally:
    """Count and cents of each figure of one period (or of the whole range)."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cents: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, row: FigureRow) -> None:
        self.counts[row.figure] += row.count
        self.cents[row.figure] += row.cents

    def _counted(self, figure: str) -> CountedAmount:
        return CountedAmount(count=self.counts[figure], amount=from_cents(self.cents[figure]))

    def figures(self) -> dict[str, object]:
        return {
            "gross_ride_revenue": from_cents(self.cents["ride_revenue"]),
            "rides_paid": self.counts["ride_revenue"],
            "platform_commission": from_cents(self.cents["commission"]),
            "driver_earnings": from_cents(self.cents["driver_earnings"]),
            "cancellation_fees": from_cents(self.cents["fees"]),
            "cancellation_fees_paid": self.counts["fees"],
            "payouts_completed": self._counted("payouts_completed"),
            "payouts_failed": self._counted("payouts_failed"),
            "payouts_pending": self._counted("payouts_pending"),
            "charges_pending": self._counted("charges_pending"),
            "webhooks_missed": self._counted("webhooks_missed"),
            "fraud_under_review": self._counted("fraud_under_review"),
            "fraud_confirmed": self._counted("fraud_confirmed"),
            "refunds_due": self._counted("refunds_due"),
            "refunds_made": self._counted("refunds_made"),
        }


async def report(session: AsyncSession, window: ReportWindow) -> FinancialReportOut:
    """Every period of the window with its figures (quiet periods as zeros), and the window's totals."""
    rows = await repository.report_figures(
        session, start=window.start, end=window.end, unit=window.group_by.value, timezone=window.timezone
    )
    by_period: dict[date, _Tally] = defaultdict(_Tally)
    totals = _Tally()
    for row in rows:
        by_period[row.period].add(row)
        totals.add(row)
    periods = [
        PeriodFigures(period_start=p.first_day, period_end=p.last_day, **by_period[p.key].figures())
        for p in window.periods()
    ]
    return FinancialReportOut(
        from_=window.first_day,
        to=window.last_day,
        group_by=window.group_by,
        timezone=window.timezone,
        periods=periods,
        totals=Figures(**totals.figures()),
    )


async def snapshot_balances(session: AsyncSession, *, now: datetime, timezone: str) -> list[date]:
    """Snapshot every driver account as of the end of yesterday (local) and of the days before it that no run
    snapshotted (at most SNAPSHOT_CATCH_UP_DAYS in all); the days written, oldest first. Run again, it
    rewrites yesterday's rows with the same figures (entries never change) rather than adding any."""
    yesterday = local_day(now, timezone) - timedelta(days=1)
    last = await repository.last_snapshot_day(session)
    first = yesterday
    if last is not None and last < yesterday:
        first = max(last + timedelta(days=1), yesterday - timedelta(days=SNAPSHOT_CATCH_UP_DAYS - 1))
    days = [first + timedelta(days=n) for n in range((yesterday - first).days + 1)]
    for day in days:
        await snapshot_day(session, day=day, timezone=timezone)
    return days


async def snapshot_day(session: AsyncSession, *, day: date, timezone: str) -> None:
    """One row per driver account (posted, pending) as of the end of the local `day`; idempotent."""
    day_end = ReportWindow(day, day, GroupBy.DAY, timezone).end
    await repository.write_snapshots(session, day=day, day_end=day_end)
