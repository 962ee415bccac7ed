"""Wire shapes of boletos (spec section 3)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from laura.core.money import Amount, Money
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime


class ValidateRequest(RequestModel):
    barcode: str = Field(max_length=80)
    amount: Amount | None = None


class ValidateOut(ApiModel):
    valid: bool
    barcode: str
    digitable_line: str
    type: str
    bank: str | None
    bank_name: str | None
    amount: Money | None
    due_date: date | None
    payment_limit: date | None
    recipient: str | None


class PayRequest(RequestModel):
    barcode: str = Field(max_length=80)
    amount: Amount
    payment_date: date | None = Field(
        default=None, description="Pay later: at most `LAURA_SCHEDULE_MAX_DAYS` (366) days ahead."
    )


class PaymentOut(ApiModel):
    id: uuid.UUID
    status: str
    amount: Money
    barcode: str
    type: str
    recipient: str | None
    due_date: date | None
    payment_date: date
    paid_at: UtcDatetime | None
    receipt: str
    failure_reason: str | None
    created_at: UtcDatetime
