"""The financial report on the wire. Amounts are decimal strings ("1234.50"), not JSON numbers: a report's
totals are summed by spreadsheets and accounting tools that read a number as a binary float."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer, WithJsonSchema

from laura.core.money import CENT
from laura.core.schemas import ApiModel
from laura.mobility.finance.periods import GroupBy

DecimalString = Annotated[
    Decimal,
    PlainSerializer(lambda v: str(v.quantize(CENT)), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["1234.50"]}),
]


class CountedAmount(ApiModel):
    count: int
    amount: DecimalString


class Figures(ApiModel):
    gross_ride_revenue: DecimalString
    """Fares paid (RIDE_PAYMENT postings: D PIX_A_RECEBER / C RECEITA_CORRIDAS)."""
    rides_paid: int
    platform_commission: DecimalString
    """COMISSAO_PLATAFORMA's share of the fares and fees."""
    driver_earnings: DecimalString
    """The drivers' share of the fares and fees, credited to their MOTORISTAS_A_PAGAR accounts."""
    cancellation_fees: DecimalString
    """Cancellation fees paid (CANCELLATION_FEE postings)."""
    cancellation_fees_paid: int
    payouts_completed: CountedAmount
    """Payouts the PSP confirmed in the period (their ledger hold posted)."""
    payouts_failed: CountedAmount
    """Payouts released in the period (their hold voided: the money is the driver's again)."""
    payouts_pending: CountedAmount
    """Payouts requested in the period and still waiting for the PSP (their hold pending)."""
    charges_pending: CountedAmount
    """Ride and fee Pix charges created in the period and still unpaid (ACTIVE)."""
    webhooks_missed: CountedAmount
    """Ride and fee Pix that reconciliation applied in the period because their webhook never came."""
    fraud_under_review: CountedAmount
    """Drivers' shares held for a fraud review in the period and still held (counted in the earnings)."""
    fraud_confirmed: CountedAmount
    """Drivers' shares forfeited in the period: an admin confirmed the fraud (moved to REPASSES_EM_REVISAO)."""
    refunds_due: CountedAmount
    """Money received in the period for rides already paid (a second or late payment), owed back to the
    payer (RIDE_REFUND_DUE: D PIX_A_RECEBER / C REEMBOLSOS_A_PAGAR)."""
    refunds_made: CountedAmount
    """Refunds owed that ops recorded as made in the period (RIDE_REFUNDED: D REEMBOLSOS_A_PAGAR / C
    PIX_A_RECEBER)."""


class PeriodFigures(Figures):
    period_start: date
    period_end: date


class FinancialReportOut(ApiModel):
    from_: date = Field(alias="from")
    to: date
    group_by: GroupBy
    timezone: str
    """The calendar of the dates and periods (LAURA_MOBILITY_TIMEZONE)."""
    currency: Literal["BRL"] = "BRL"
    periods: list[PeriodFigures]
    totals: Figures
