"""Every customer account gets a physical debit card, in the transaction that opens the account."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.hooks import on_account_opened
from laura.bank.accounts.models import BankAccount
from laura.bank.cards.embossing import holder_name
from laura.bank.cards.issuer import issuer_of
from laura.bank.cards.service import issue_physical
from laura.identity.models import User


@on_account_opened
async def issue_debit_card(session: AsyncSession, user: User, account: BankAccount) -> None:
    await issue_physical(
        session,
        issuer_of(session),
        user_id=user.id,
        account_id=account.id,
        holder_name=holder_name(user.name),
    )
