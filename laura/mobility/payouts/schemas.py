"""Payouts, balances and financials on the wire: amounts as decimal strings ("12.34"), BRL."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PlainSerializer

from laura.core.money import Amount, from_cents
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime
from laura.ledger.schemas import StatementRowOut
from laura.mobility.payouts.balance import DriverBalance, Financials

Reais = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json")]
"""A response amount as a decimal string with two places."""


def _number_or_decimal_string(value: object) -> object:
    """The amount as a JSON number (the project's wire) or a decimal string like the answers show."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


class PayoutRequest(RequestModel):
    amount: Annotated[Amount, BeforeValidator(_number_or_decimal_string)]


class BalanceOut(ApiModel):
    available: Reais
    on_hold: Reais
    pending_payouts: Reais
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
    earnings_today: Reais
    earnings_week: Reais
    earnings_month: Reais
    rides_paid: int
    commission_paid: Reais
    payouts_made: int
    paid_out: Reais
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
    amount: Reais
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
