"""Every query of the card network: the authorization's one statement, and the session path's rows."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.cards.models import CardTransaction
from laura.core.db import Database
from laura.core.statement import FunctionCall

_AUTHORIZE = FunctionCall(
    "card_authorize",
    "outcome, authorization_id, decline_code, amount_cents, user_id",
    (
        "id",
        "idempotency_key",
        "request_hash",
        "number_hash",
        "expiry",
        "cvv_mac",
        "cents",
        "currency",
        "merchant",
        "mcc",
        "city",
        "country",
        "category",
        "now",
        "day_start",
        "month_start",
        "hold_id",
        "hold_seconds",
    ),
)


async def authorize(db: Database, **args: Any) -> asyncpg.Record:
    """A whole authorization in one autocommit statement (`card_authorize`, sql/authorize.sql), by its
    arguments' names without `p_`; returns its outcome."""
    return await _AUTHORIZE(db, **args)


_RELEASED = text(
    """
    UPDATE card_transactions t SET status = 'VOIDED', updated_at = now()
     WHERE t.id IN (SELECT a.id FROM card_transactions a JOIN ledger_holds h ON h.transaction_id = a.hold_id
                     WHERE a.status = 'AUTHORIZED' AND h.status <> 'pending'
                     LIMIT :limit FOR UPDATE OF a SKIP LOCKED)
    RETURNING t.user_id
    """
)


class CardNetworkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locked(self, authorization_id: uuid.UUID) -> CardTransaction | None:
        """The authorization with its row locked: capture, void and refund of one are serialized."""
        query = select(CardTransaction).where(CardTransaction.id == authorization_id).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def flush(self) -> None:
        await self.session.flush()

    async def demo_card(self, email: str) -> tuple[uuid.UUID, bytes, str] | None:
        """The user's (id, number hash, expiry) of their oldest active physical card, for the demo seed."""
        row = await self.session.execute(
            text(
                "SELECT c.user_id, c.number_hash, c.expiry_date FROM cards c JOIN users u ON u.id = c.user_id"
                " WHERE u.email = :email AND c.type = 'PHYSICAL' AND c.status = 'ACTIVE'"
                " ORDER BY c.created_at LIMIT 1"
            ),
            {"email": email},
        )
        found = row.first()
        return None if found is None else (found[0], bytes(found[1]), str(found[2]))

    async def void_released(self, limit: int) -> list[uuid.UUID]:
        """Mark VOIDED up to `limit` AUTHORIZED rows whose hold is no longer pending (the ledger's expiry
        released it); the users they belong to, to drop their cached balances."""
        result = await self.session.execute(_RELEASED, {"limit": limit})
        return [row[0] for row in result]
