"""Wire shapes of the checking account and its statement."""

from __future__ import annotations

import uuid

from laura.core.money import Money
from laura.core.schemas import ApiModel, UtcDatetime


class AccountOut(ApiModel):
    id: uuid.UUID
    agency: str
    number: str
    status: str
    currency: str = "BRL"
    balance: Money
    available: Money
    blocked: Money


class StatementEntry(ApiModel):
    id: int
    transaction_id: uuid.UUID
    type: str
    description: str | None
    direction: str
    amount: Money
    balance: Money
    pending: bool
    status: str
    """COMPLETED, PENDING (held), SETTLED (a hold since posted) or CANCELLED (a hold released)."""
    entity_type: str | None
    """What the money moved for (`transfer`, `bill_payment`, ...), whose id is `entityId`."""
    entity_id: str | None
    created_at: UtcDatetime


class StatementPagination(ApiModel):
    limit: int
    has_more: bool
    next_cursor: str | None


class StatementOut(ApiModel):
    data: list[StatementEntry]
    pagination: StatementPagination
