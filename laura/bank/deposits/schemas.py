"""Wire shapes of a Pix deposit."""

from __future__ import annotations

import uuid

from pydantic import AliasChoices, Field

from laura.core.money import Amount, Money
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime


class DepositRequest(RequestModel):
    amount: Amount


class DepositOut(ApiModel):
    id: uuid.UUID = Field(validation_alias=AliasChoices("id", "entity_id"))
    """The deposit's id: the entity its Pix charge is for."""
    txid: str
    amount: Money
    status: str
    qr_code: str
    """The BR Code as a PNG data URL."""
    pix_copia_e_cola: str
    expires_at: UtcDatetime
