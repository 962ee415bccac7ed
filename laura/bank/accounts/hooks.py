"""Registering a customer opens their checking account in the registration's own transaction; what comes
with an account (the cards feature's debit card) hooks in right after it opens (`on_account_opened`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts.models import BankAccount
from laura.bank.accounts.service import open_checking_account
from laura.identity.models import User
from laura.identity.service import on_user_registered

AccountHook = Callable[[AsyncSession, User, BankAccount], Awaitable[None]]
_account_hooks: list[AccountHook] = []


def on_account_opened(hook: AccountHook) -> AccountHook:
    """Run `hook` in the registration's transaction once the customer's account exists."""
    _account_hooks.append(hook)
    return hook


@on_user_registered
async def open_account_for_customer(session: AsyncSession, user: User) -> None:
    """Only customers bank with us; passengers, drivers and staff get no checking account."""
    if user.role != "customer":
        return
    account = await open_checking_account(session, user.id, user.name)
    audit.record(
        session,
        action="ACCOUNT_OPENED",
        resource_type="bank_account",
        resource_id=str(account.id),
        new={"agency": account.agency, "number": account.number},
        actor_id=user.id,
    )
    for hook in _account_hooks:
        await hook(session, user, account)
