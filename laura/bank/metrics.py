"""Prometheus counters of bank money movements, incremented once the change they count has committed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit

if TYPE_CHECKING:
    from laura.bank.transfers.models import Transfer

TRANSFERS = Counter(
    "transfers_total", "Transfers entering a status, by type (PIX, TED, P2P)", ["type", "status"]
)
BILL_PAYMENTS = Counter("bill_payments_total", "Boleto payments entering a status", ["status"])


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


def count_bill_payment(session: AsyncSession, status: str) -> None:
    _after_commit_inc(session, BILL_PAYMENTS.labels(status))
