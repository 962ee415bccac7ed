"""Wire shapes of cards: the spec's fields, camelCase like every other schema of the project (the spec's list
example writes `daily_limit`…`spent_month` in snake_case; here they are `dailyLimit`…`spentMonth`)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import AwareDatetime, Field

from laura.core.money import Amount, Money, from_cents
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime

if TYPE_CHECKING:
    from laura.bank.cards.models import Card


class VirtualCardRequest(RequestModel):
    limit: Amount
    """The card's total limit over its life (what its approved purchases may add up to)."""
    expires_at: AwareDatetime
    description: str | None = Field(default=None, max_length=100)


class CardOut(ApiModel):
    """A card as listed: never its number or CVV."""

    id: uuid.UUID
    last_four_digits: str
    brand: str
    type: str
    status: str
    expiry_date: str
    daily_limit: Money
    monthly_limit: Money
    spent_today: Money
    spent_month: Money
    limit: Money | None = None
    description: str | None = None
    expires_at: UtcDatetime
    replaces_card_id: uuid.UUID | None = None
    blocked_at: UtcDatetime | None = None

    @classmethod
    def of(cls, card: Card, spent_today_cents: int, spent_month_cents: int) -> CardOut:
        """A card row with what its authorizations spent in Brasília's day and month."""
        return cls(
            id=card.id,
            last_four_digits=card.last_four,
            brand=card.brand,
            type=card.type,
            status=card.status,
            expiry_date=card.expiry_date,
            daily_limit=from_cents(card.daily_limit_cents),
            monthly_limit=from_cents(card.monthly_limit_cents),
            spent_today=from_cents(spent_today_cents),
            spent_month=from_cents(spent_month_cents),
            limit=from_cents(card.limit_cents) if card.limit_cents is not None else None,
            description=card.description,
            expires_at=card.expires_at,
            replaces_card_id=card.replaces_card_id,
            blocked_at=card.blocked_at,
        )


class CardList(ApiModel):
    data: list[CardOut]


class VirtualCardOut(ApiModel):
    """The one answer that shows a new virtual card's number and CVV (a replay of it omits them)."""

    id: uuid.UUID
    number: str | None
    cvv: str | None
    holder_name: str
    last_four_digits: str
    brand: str
    type: str
    status: str
    expiry_date: str
    limit: Money
    expires_at: UtcDatetime
    description: str | None

    @classmethod
    def of(cls, card: Card, number: str | None, cvv: str | None) -> VirtualCardOut:
        assert card.limit_cents is not None, "a virtual card has a limit"
        return cls(
            id=card.id,
            number=number,
            cvv=cvv,
            holder_name=card.holder_name,
            last_four_digits=card.last_four,
            brand=card.brand,
            type=card.type,
            status=card.status,
            expiry_date=card.expiry_date,
            limit=from_cents(card.limit_cents),
            expires_at=card.expires_at,
            description=card.description,
        )


class CardDetails(ApiModel):
    id: uuid.UUID
    number: str
    cvv: str
    holder_name: str
    expiry_date: str


class BlockAction(StrEnum):
    BLOCK = "BLOCK"
    UNBLOCK = "UNBLOCK"


class BlockRequest(RequestModel):
    action: BlockAction
    reason: str | None = Field(default=None, max_length=100)
    """Free text; `LOST` or `STOLEN` make the block permanent and issue a replacement of a physical card."""


class BlockOut(ApiModel):
    id: uuid.UUID
    status: str
    blocked_at: UtcDatetime | None
    replacement_card_id: uuid.UUID | None = None
    """The new card issued when a physical card is reported LOST or STOLEN."""


class CancelOut(ApiModel):
    id: uuid.UUID
    status: str
    cancelled_at: UtcDatetime | None
