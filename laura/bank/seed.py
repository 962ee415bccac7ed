"""Demo money: the demo customers get an opening balance from the bank's capital (idempotent)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts import hooks  # noqa: F401 - demo customers registered by seed_demo get accounts
from laura.bank.accounts import service as accounts
from laura.bank.accounts.repository import AccountRepository
from laura.core.db import Database
from laura.core.money import to_cents
from laura.ledger import service as ledger
from laura.settings import Settings

DEMO_FUNDING = {
    "ana@laura.dev": Decimal("5000.00"),
    "bruno@laura.dev": Decimal("2500.00"),
    "carla@laura.dev": Decimal("1000.00"),
}


async def fund_customer(session: AsyncSession, user_id: uuid.UUID, amount: Decimal, *, reference: str) -> None:
    """Credit a customer from equity (3100): demo and benchmark money, posted once per reference."""
    cents = to_cents(amount)
    await ledger.post(
        session,
        [ledger.Line.debit(accounts.EQUITY, cents), ledger.Line.credit(accounts.ledger_code(user_id), cents)],
        reference=reference,
        reason="DEMO_FUNDING",
        description="Saldo inicial de demonstração",
        entity_type="bank_account",
        entity_id=str(user_id),
    )


async def seed_bank(settings: Settings) -> None:
    """Fund the demo customers once; running it again changes nothing (ledger references are unique)."""
    db = Database(settings.database_url)
    try:
        async with db.unit_of_work() as session:
            repo = AccountRepository(session)
            for email, amount in DEMO_FUNDING.items():
                user_id = await repo.user_id_by_email(email)
                if user_id is None or await repo.by_user(user_id) is None:
                    continue
                await fund_customer(session, user_id, amount, reference=f"seed:funding:{user_id}")
    finally:
        await db.dispose()
