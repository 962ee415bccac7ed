"""Queries on checking accounts."""

from __future__ import annotations

import uuid

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.models import BankAccount
from laura.core.db import fetchrow


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_sequence(self) -> int:
        return (await self.session.execute(text("SELECT nextval('bank_account_number_seq')"))).scalar_one()

    async def add(self, account: BankAccount) -> None:
        self.session.add(account)
        await self.session.flush()

    async def by_user(self, user_id: uuid.UUID, *, lock: bool = False) -> BankAccount | None:
        """The user's account; `lock` takes its row lock, serializing that customer's money movements."""
        query = select(BankAccount).where(BankAccount.user_id == user_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def lock_pair(self, sender_id: uuid.UUID, recipient_id: uuid.UUID) -> asyncpg.Record | None:
        """Lock the sender's account row and read the recipient's status, in one statement: the statuses of
        both (the recipient's None when they have no account), or None when the sender has none."""
        return await fetchrow(
            self.session,
            "SELECT s.status AS sender_status, r.status AS recipient_status"
            "  FROM bank_accounts s LEFT JOIN bank_accounts r ON r.user_id = $2"
            " WHERE s.user_id = $1 FOR UPDATE OF s",
            sender_id,
            recipient_id,
        )

    async def user_role(self, user_id: uuid.UUID) -> str | None:
        return (
            await self.session.execute(text("SELECT role FROM users WHERE id = :id AND is_active"), {"id": user_id})
        ).scalar_one_or_none()

    async def user_id_by_email(self, email: str) -> uuid.UUID | None:
        return (
            await self.session.execute(text("SELECT id FROM users WHERE email = :email"), {"email": email})
        ).scalar_one_or_none()
