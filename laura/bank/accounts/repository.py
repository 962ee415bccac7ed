"""Queries on checking accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.models import BankAccount


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

    async def user_id_by_email(self, email: str) -> uuid.UUID | None:
        return (
            await self.session.execute(text("SELECT id FROM users WHERE email = :email"), {"email": email})
        ).scalar_one_or_none()
