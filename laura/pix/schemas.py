"""Pix on the wire: a charge as its owner sees it, and the webhook acknowledgement."""

from __future__ import annotations

from typing import Literal

from laura.core.money import Money
from laura.core.schemas import ApiModel, UtcDatetime


class ChargeOut(ApiModel):
    txid: str
    purpose: str
    entity_id: str
    amount: Money
    status: Literal["ACTIVE", "PAID", "EXPIRED", "CANCELLED"]
    description: str | None
    pix_copia_e_cola: str
    qr_code: str
    """The BR Code as a PNG data URL, for an `<img src>`."""
    location: str | None
    expires_at: UtcDatetime
    paid_at: UtcDatetime | None
    e2e_id: str | None
    created_at: UtcDatetime


class WebhookAck(ApiModel):
    outcome: Literal["applied", "duplicate", "unmatched", "unconfirmed"]
    pix: int
    """How many Pix the delivery held (0 for a duplicate delivery)."""
