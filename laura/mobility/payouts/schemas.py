"""Payouts, balances and financials on the wire: amounts as JSON numbers (the project's `Money`), BRL."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from laura.core.money import Amount, Money, from_cents
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime
from laura.ledger.schemas import StatementRowOut
from laura.mobility.payouts.balance import DriverBalance, Financials


class PayoutRequest(RequestModel):
    amount: Amount


class BalanceOut(ApiModel):
    available: Money
    on_hold: Money
    pending_payouts: Money
    currency: Literal["BRL"] = "BRL"

    @classmethod
    def of(cls, balance: DriverBalance) -> BalanceOut:
        return cls(
            available=from_cents(balance.available),
            on_hold=from_cents(balance.on_hold),
            pending_payouts=from_cents(balance.pending_payouts),
        )


class StatementOut(ApiModel):
    data: list[StatementRowOut]
    total: int
    next_cursor: str | None


class FinancialsOut(BalanceOut):
    earnings_today: Money
    earnings_week: Money
    earnings_month: Money
    rides_paid: int
    commission_paid: Money
    payouts_made: int
    paid_out: Money
    statement: StatementOut

    @classmethod
    def build(cls, figures: Financials, statement: StatementOut) -> FinancialsOut:
        return cls(
            **BalanceOut.of(figures.balance).model_dump(),
            earnings_today=from_cents(figures.earnings_today),
            earnings_week=from_cents(figures.earnings_week),
            earnings_month=from_cents(figures.earnings_month),
            rides_paid=figures.rides_paid,
            commission_paid=from_cents(figures.commission_paid),
            payouts_made=figures.payouts_made,
            paid_out=from_cents(figures.paid_out),
            statement=statement,
        )


class PayoutOut(ApiModel):
    id: uuid.UUID
    driver_id: uuid.UUID
    amount: Money
    status: str
    """PENDING, PROCESSING, COMPLETED or FAILED."""
    pix_key: str
    pix_key_type: str
    not_before: UtcDatetime | None
    e2e_id: str | None = Field(alias="e2eId")
    failure_reason: str | None
    created_at: UtcDatetime
    processing_at: UtcDatetime | None
    completed_at: UtcDatetime | None
    failed_at: UtcDatetime | None
