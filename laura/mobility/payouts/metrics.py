"""The payout counters of the mobility spec (`HighPayoutFailureRate` divides failed by created), moved once
the transaction that changed the payout committed."""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit

PAYOUTS_CREATED = Counter("payouts_created_total", "Driver payouts accepted (POST /payouts)")
PAYOUTS_COMPLETED = Counter("payouts_completed_total", "Driver payouts the PSP settled")
PAYOUTS_FAILED = Counter("payouts_failed_total", "Driver payouts the PSP refused (their money was released)")
PAYOUTS_AMOUNT = Counter(
    "payouts_amount_total", "Reais (BRL, not cents) of driver payouts accepted (POST /payouts)"
)
PAYOUTS_COMPLETED_AMOUNT = Counter(
    "payouts_completed_amount_total", "Reais (BRL, not cents) of driver payouts the PSP settled"
)


def count_created(session: AsyncSession, amount_cents: int) -> None:
    async def hook() -> None:
        PAYOUTS_CREATED.inc()
        PAYOUTS_AMOUNT.inc(amount_cents / 100)

    after_commit(session, hook)


def count_settled(session: AsyncSession, *, completed: bool, amount_cents: int) -> None:
    """Count a payout the PSP settled (with its reais) or refused, once the outcome committed."""

    async def hook() -> None:
        if completed:
            PAYOUTS_COMPLETED.inc()
            PAYOUTS_COMPLETED_AMOUNT.inc(amount_cents / 100)
        else:
            PAYOUTS_FAILED.inc()

    after_commit(session, hook)
