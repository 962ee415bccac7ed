"""Wire shapes of a ride's payment."""

from __future__ import annotations

import uuid

from pydantic import Field

from laura.core.money import Money
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime


class PaymentIntentRequest(RequestModel):
    ride_id: uuid.UUID


class PaymentOut(ApiModel):
    id: uuid.UUID
    ride_id: uuid.UUID
    purpose: str
    """RIDE (the fare) or CANCELLATION_FEE."""
    status: str
    """PENDING, CONFIRMED, EXPIRED or FAILED."""
    amount: Money
    expires_at: UtcDatetime
    created_at: UtcDatetime
    confirmed_at: UtcDatetime | None = None
    txid: str | None = None
    """The Pix charge's id; null until the charge exists at the PSP."""
    charge_status: str | None = None
    qr_code: str | None = None
    """The BR Code as a PNG data URL."""
    pix_copia_e_cola: str | None = None
    e2e_id: str | None = Field(default=None, alias="e2eId")


class RefundOut(ApiModel):
    """A review item: money received for a ride that must not pay it (again), owed back to its payer."""

    id: uuid.UUID
    e2e_id: str = Field(alias="e2eId")
    ride_id: uuid.UUID
    intent_id: uuid.UUID
    txid: str
    payer_id: uuid.UUID
    amount: Money
    reason: str
    """ride_already_paid or charge_not_active (docs/operations.md, "Refunds owed for rides")."""
    status: str
    """OPEN (owed, on 2300 REEMBOLSOS_A_PAGAR) or REFUNDED."""
    created_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    resolved_by: uuid.UUID | None = None
    note: str | None = None


class ResolveRefundRequest(RequestModel):
    note: str = Field(min_length=1, max_length=1000, examples=["Devolução E123... done at the PSP"])
