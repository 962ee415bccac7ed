"""Every query of the payouts feature: the payouts table, and the reads of a driver's ledger account that
the balance and the financials are made of (the ledger's own tables, read-only, by account code)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import fetchrow
from laura.mobility.payouts.models import Payout, PayoutStatus

EARNING_REASONS = ("RIDE_COMMISSION", "CANCELLATION_FEE_SPLIT")
"""The ledger transactions that credit a driver's share (a paid ride's split, a paid cancellation fee's)."""

_BALANCE = """
SELECT b.credits_posted - b.debits_posted AS posted,
       coalesce(h.payouts, 0)::bigint AS pending_payouts,
       coalesce(h.review, 0)::bigint AS fraud_review,
       coalesce(y.cents, 0)::bigint AS young_earnings
  FROM ledger_accounts a
  JOIN ledger_account_balances b ON b.account_id = a.id
  LEFT JOIN LATERAL (
        SELECT sum(e.amount) FILTER (WHERE t.reason = 'PAYOUT') AS payouts,
               sum(e.amount) FILTER (WHERE t.reason = 'FRAUD_REVIEW') AS review
          FROM ledger_entries e
          JOIN ledger_holds hold ON hold.transaction_id = e.transaction_id AND hold.status = 'pending'
          JOIN ledger_transactions t ON t.id = e.transaction_id
         WHERE e.account_id = a.id AND e.pending AND e.direction = 'D') h ON true
  LEFT JOIN LATERAL (
        SELECT sum(e.amount) AS cents
          FROM ledger_entries e
          JOIN ledger_transactions t ON t.id = e.transaction_id
         WHERE e.account_id = a.id AND NOT e.pending AND e.direction = 'C' AND e.created_at > $2
           AND t.reason = ANY($3::text[])) y ON true
 WHERE a.code = $1
"""
"""The four figures of a driver's balance in one round trip: posted, pending PAYOUT and FRAUD_REVIEW holds
out of the account, and earnings credited after `$2` (still in the hold window)."""

_EARNINGS = """
SELECT coalesce(sum(e.amount) FILTER (WHERE e.created_at >= $2), 0)::bigint AS today,
       coalesce(sum(e.amount) FILTER (WHERE e.created_at >= $3), 0)::bigint AS week,
       coalesce(sum(e.amount) FILTER (WHERE e.created_at >= $4), 0)::bigint AS month
  FROM ledger_accounts a
  JOIN ledger_entries e ON e.account_id = a.id
  JOIN ledger_transactions t ON t.id = e.transaction_id
 WHERE a.code = $1 AND NOT e.pending AND e.direction = 'C' AND t.reason = ANY($5::text[])
   AND e.created_at >= least($2, $3, $4)
"""
"""The driver's earnings credited since the start of the local day, week and month."""

_LIFETIME = """
SELECT count(*) FILTER (WHERE t.reason = 'RIDE_COMMISSION') AS rides_paid,
       coalesce(sum(c.cents), 0)::bigint AS commission
  FROM ledger_accounts a
  JOIN ledger_entries e ON e.account_id = a.id
  JOIN ledger_transactions t ON t.id = e.transaction_id
  LEFT JOIN LATERAL (
        SELECT sum(x.amount) AS cents
          FROM ledger_entries x
          JOIN ledger_accounts xa ON xa.id = x.account_id
         WHERE x.transaction_id = t.id AND xa.code = '4200' AND x.direction = 'C') c ON true
 WHERE a.code = $1 AND NOT e.pending AND e.direction = 'C' AND t.reason = ANY($2::text[])
"""
"""Rides paid to the driver and the platform commission taken from their rides and fees, all time."""


@dataclass(frozen=True)
class LedgerFigures:
    posted: int = 0
    pending_payouts: int = 0
    fraud_review: int = 0
    young_earnings: int = 0


@dataclass(frozen=True)
class Earnings:
    today: int = 0
    week: int = 0
    month: int = 0
    rides_paid: int = 0
    commission: int = 0


class PayoutRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payout: Payout) -> Payout:
        self.session.add(payout)
        await self.session.flush()
        return payout

    async def get(self, payout_id: uuid.UUID, *, for_update: bool = False) -> Payout | None:
        query = select(Payout).where(Payout.id == payout_id).execution_options(populate_existing=True)
        return await self.session.scalar(query.with_for_update() if for_update else query)

    async def sum_since(self, driver_id: uuid.UUID, since: datetime, statuses: Sequence[PayoutStatus]) -> int:
        """Cents of the driver's payouts in `statuses` created at or after `since`."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(
                Payout.driver_id == driver_id,
                Payout.created_at >= since,
                Payout.status.in_([s.value for s in statuses]),
            )
        )
        return int(total or 0)

    async def completed(self, driver_id: uuid.UUID) -> tuple[int, int]:
        """How many of the driver's payouts completed, and their cents."""
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(Payout.amount_cents), 0)).where(
                    Payout.driver_id == driver_id, Payout.status == PayoutStatus.COMPLETED.value
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def page(
        self,
        *,
        driver_id: uuid.UUID | None,
        status: str | None,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Payout], int]:
        """Payouts newest first, filtered (no driver: everyone's), and how many match."""
        conditions = []
        if driver_id is not None:
            conditions.append(Payout.driver_id == driver_id)
        if status is not None:
            conditions.append(Payout.status == status)
        if since is not None:
            conditions.append(Payout.created_at >= since)
        if until is not None:
            conditions.append(Payout.created_at < until)
        total = await self.session.scalar(select(func.count()).select_from(Payout).where(*conditions))
        rows = await self.session.scalars(
            select(Payout)
            .where(*conditions)
            .order_by(Payout.created_at.desc(), Payout.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)

    async def ledger_figures(self, code: str, *, young_since: datetime) -> LedgerFigures:
        row = await fetchrow(self.session, _BALANCE, code, young_since, list(EARNING_REASONS))
        if row is None:
            return LedgerFigures()
        return LedgerFigures(
            int(row["posted"]),
            int(row["pending_payouts"]),
            int(row["fraud_review"]),
            int(row["young_earnings"]),
        )

    async def earnings(self, code: str, *, day: datetime, week: datetime, month: datetime) -> Earnings:
        periods = await fetchrow(self.session, _EARNINGS, code, day, week, month, list(EARNING_REASONS))
        lifetime = await fetchrow(self.session, _LIFETIME, code, list(EARNING_REASONS))
        assert periods is not None and lifetime is not None, "aggregates answer one row"
        return Earnings(
            today=int(periods["today"]),
            week=int(periods["week"]),
            month=int(periods["month"]),
            rides_paid=int(lifetime["rides_paid"]),
            commission=int(lifetime["commission"]),
        )
