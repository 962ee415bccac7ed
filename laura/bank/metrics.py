"""Prometheus counters of bank money movements, incremented once the change they count has committed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit

if TYPE_CHECKING:
    from laura.bank.transfers.models import Transfer

TRANSFERS = Counter(
    "transfers_total", "Transfers entering a status, by type (PIX, TED, P2P)", ["type", "status"]
)
BILL_PAYMENTS = Counter("bill_payments_total", "Boleto payments entering a status", ["status"])
CARD_AUTHORIZATIONS = Counter(
    "card_authorizations_total",
    "Card network authorizations answered, by result (approved, declined, not_found) and decline code",
    ["result", "decline_code"],
)
CARD_AUTHORIZATION_DURATION = Histogram(
    "card_authorization_duration_seconds",
    "Time to decide a card network authorization (its one statement, from the service's call to the answer)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


def _after_commit_inc(session: AsyncSession, child: Counter) -> None:
    async def increment() -> None:
        child.inc()

    after_commit(session, increment)


def count_transfer(session: AsyncSession, transfer: Transfer) -> None:
    """Count the transfer's current status, after the commit (a rollback counts nothing)."""
    _after_commit_inc(session, TRANSFERS.labels(transfer.type, transfer.status))


def count_committed_transfer(transfer: Transfer) -> None:
    """Count the status of a transfer whose statement has already committed."""
    TRANSFERS.labels(transfer.type, transfer.status).inc()


def count_card_authorization(result: str, decline_code: str | None, seconds: float) -> None:
    """Count an authorization whose statement has committed (a replay counts again: it was answered)."""
    CARD_AUTHORIZATIONS.labels(result, decline_code or "").inc()
    CARD_AUTHORIZATION_DURATION.observe(seconds)


def count_bill_payment(session: AsyncSession, status: str) -> None:
    _after_commit_inc(session, BILL_PAYMENTS.labels(status))
