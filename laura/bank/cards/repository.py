"""Queries on cards and their data keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.cards.models import Card, CardKey, CardStatus, CardType

_LIVE = (CardStatus.ACTIVE, CardStatus.BLOCKED)


class CardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, card: Card) -> None:
        self.session.add(card)
        await self.session.flush()

    async def number_taken(self, number_hash: bytes) -> bool:
        found = await self.session.execute(select(Card.id).where(Card.number_hash == number_hash))
        return found.first() is not None

    async def owned(self, card_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False) -> Card | None:
        """The user's card by id (None for another's); `lock` serializes its status changes."""
        query = select(Card).where(Card.id == card_id, Card.user_id == user_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def listed(
        self, user_id: uuid.UUID, *, day: datetime, month: datetime
    ) -> Sequence[tuple[Card, int, int]]:
        """The user's cards, oldest first, each with `card_spent_cents` since `day` and since `month` (one
        query: the function runs per row inside it)."""
        rows = await self.session.execute(
            select(Card, func.card_spent_cents(Card.id, day), func.card_spent_cents(Card.id, month))
            .where(Card.user_id == user_id)
            .order_by(Card.created_at, Card.id)
        )
        return [(card, int(today), int(this_month)) for card, today, this_month in rows.tuples()]

    async def physical(self, account_id: uuid.UUID) -> Card | None:
        """The account's newest physical card that still works (ACTIVE or BLOCKED)."""
        query = (
            select(Card)
            .where(Card.account_id == account_id, Card.type == CardType.PHYSICAL, Card.status.in_(_LIVE))
            .order_by(Card.created_at.desc())
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def live_virtual_count(self, user_id: uuid.UUID) -> int:
        query = select(func.count()).where(
            Card.user_id == user_id, Card.type == CardType.VIRTUAL, Card.status.in_(_LIVE)
        )
        return int((await self.session.execute(query)).scalar_one())

    async def accounts_without_card(self) -> Sequence[tuple[uuid.UUID, uuid.UUID, str]]:
        """(user id, account id, name) of customers whose account has never had a physical card."""
        rows = await self.session.execute(
            text(
                """
                SELECT u.id, a.id, u.name
                  FROM bank_accounts a JOIN users u ON u.id = a.user_id
                 WHERE NOT EXISTS (SELECT 1 FROM cards c WHERE c.account_id = a.id AND c.type = 'PHYSICAL')
                 ORDER BY a.created_at
                """
            )
        )
        return [(user_id, account_id, name) for user_id, account_id, name in rows.tuples()]

    # data keys

    async def keys(self) -> Sequence[CardKey]:
        """Every data key, oldest first (ids grow: the last one is the newest)."""
        return (await self.session.execute(select(CardKey).order_by(CardKey.id))).scalars().all()

    async def newest_key_id(self) -> str | None:
        query = select(CardKey.id).order_by(CardKey.id.desc()).limit(1)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def insert_key(self, key_id: str, sealed: bytes) -> None:
        """Add a data key unless one of that id exists: two processes creating the same next key make one."""
        await self.session.execute(
            text("INSERT INTO card_keys (id, key_sealed) VALUES (:id, :sealed) ON CONFLICT (id) DO NOTHING"),
            {"id": key_id, "sealed": sealed},
        )

    async def count_not_under(self, key_id: str) -> int:
        query = select(func.count()).where(Card.key_id != key_id)
        return int((await self.session.execute(query)).scalar_one())

    async def lock_batch_not_under(self, key_id: str, size: int) -> Sequence[Card]:
        """Up to `size` cards sealed under another key, locked; rows another transaction holds are skipped."""
        query = (
            select(Card)
            .where(Card.key_id != key_id)
            .order_by(Card.id)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.execute(query)).scalars().all()

    async def reseal(self, rows: Sequence[dict[str, object]]) -> None:
        """Store cards sealed again (`id`, `key_id`, `number_sealed`, `cvv_sealed` each): one executemany."""
        if rows:
            await self.session.execute(update(Card), rows)
