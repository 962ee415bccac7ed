"""What a driver may withdraw, read from their ledger account (2100.<driver id>) alone.

The contract every helper of the money half shares: posted is the account's posted balance;
pendingPayouts the pending 'PAYOUT' holds out of it; onHold the pending 'FRAUD_REVIEW' holds plus the
earnings ('RIDE_COMMISSION' and 'CANCELLATION_FEE_SPLIT' credits) younger than the hold window
(`driver_earnings_hold_hours`: D+1 gives a charge-back or a fraud review time to land); available is
posted less both, never below zero. A driver with no account yet (no ride completed) has all zeros.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.mobility.payments.service import driver_payable_code
from laura.mobility.payouts.periods import periods
from laura.mobility.payouts.policy import PayoutPolicy
from laura.mobility.payouts.repository import PayoutRepository


@dataclass(frozen=True)
class DriverBalance:
    posted: int
    on_hold: int
    pending_payouts: int

    @property
    def available(self) -> int:
        return max(0, self.posted - self.pending_payouts - self.on_hold)


@dataclass(frozen=True)
class Financials:
    balance: DriverBalance
    earnings_today: int
    earnings_week: int
    earnings_month: int
    rides_paid: int
    commission_paid: int
    payouts_made: int
    paid_out: int


async def driver_balance(
    session: AsyncSession, driver_id: uuid.UUID, *, policy: PayoutPolicy, now: datetime
) -> DriverBalance:
    figures = await PayoutRepository(session).ledger_figures(
        driver_payable_code(driver_id), young_since=now - policy.earnings_hold
    )
    return DriverBalance(
        posted=figures.posted,
        on_hold=figures.fraud_review + figures.young_earnings,
        pending_payouts=figures.pending_payouts,
    )


async def driver_financials(
    session: AsyncSession, driver_id: uuid.UUID, *, policy: PayoutPolicy, now: datetime
) -> Financials:
    """The balance, plus earnings of the Brasília day, week (from Monday) and month, and lifetime totals."""
    repo = PayoutRepository(session)
    starts = periods(now, policy.timezone)
    earned = await repo.earnings(
        driver_payable_code(driver_id), day=starts.day, week=starts.week, month=starts.month
    )
    made, paid_out = await repo.completed(driver_id)
    return Financials(
        balance=await driver_balance(session, driver_id, policy=policy, now=now),
        earnings_today=earned.today,
        earnings_week=earned.week,
        earnings_month=earned.month,
        rides_paid=earned.rides_paid,
        commission_paid=earned.commission,
        payouts_made=made,
        paid_out=paid_out,
    )
