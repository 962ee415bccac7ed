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
