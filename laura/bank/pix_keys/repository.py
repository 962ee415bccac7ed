"""Every query on the Pix keys directory."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.pix_keys.models import PixKeyEntry


class PixKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, entry: PixKeyEntry) -> bool:
        """Store the key; False when the key already points to some account (the unique index decides)."""
        inserted = await self.session.scalar(
            insert(PixKeyEntry)
            .values(
                id=entry.id,
                user_id=entry.user_id,
                type=entry.type,
                key=entry.key,
                created_at=entry.created_at,
            )
            .on_conflict_do_nothing(index_elements=[PixKeyEntry.key])
            .returning(PixKeyEntry.id)
        )
        return inserted is not None

    async def count(self, user_id: uuid.UUID) -> int:
        return int(await self.session.scalar(select(func.count()).where(PixKeyEntry.user_id == user_id)) or 0)

    async def of_user(self, user_id: uuid.UUID) -> list[PixKeyEntry]:
        query = select(PixKeyEntry).where(PixKeyEntry.user_id == user_id).order_by(PixKeyEntry.created_at)
        return list((await self.session.execute(query)).scalars())

    async def get(self, key_id: uuid.UUID, user_id: uuid.UUID) -> PixKeyEntry | None:
        query = select(PixKeyEntry).where(PixKeyEntry.id == key_id, PixKeyEntry.user_id == user_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def remove(self, key_id: uuid.UUID) -> None:
        await self.session.execute(delete(PixKeyEntry).where(PixKeyEntry.id == key_id))

    async def owner_of(self, key: str) -> uuid.UUID | None:
        return await self.session.scalar(select(PixKeyEntry.user_id).where(PixKeyEntry.key == key))

    async def user_documents(self, user_id: uuid.UUID) -> tuple[str | None, str | None]:
        """The customer's (cpf, phone) as identity stores them (11 digits, E.164)."""
        row = (
            await self.session.execute(text("SELECT cpf, phone FROM users WHERE id = :id"), {"id": user_id})
        ).one_or_none()
        return (row.cpf, row.phone) if row else (None, None)
