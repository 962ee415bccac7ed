"""Queries on checking accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.models import BankAccount
from laura.core.db import fetchrow


@dataclass(frozen=True)
class AccountHead:
    """What a summary shows of the account's row, read through the driver (`fetchrow`): no ORM entity."""

    id: uuid.UUID
    ledger_account_id: uuid.UUID
    agency: str
    number: str
    status: str


_HEAD = "SELECT id, ledger_account_id, agency, number, status FROM bank_accounts WHERE user_id = $1"


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_sequence(self) -> int:
        return (await self.session.execute(text("SELECT nextval('bank_account_number_seq')"))).scalar_one()

    async def add(self, account: BankAccount) -> None:
        self.session.add(account)
        await self.session.flush()

    async def head_of_user(self, user_id: uuid.UUID) -> AccountHead | None:
        row = await fetchrow(self.session, _HEAD, user_id)
        return None if row is None else AccountHead(**row)

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
