"""Demo bank data: opening balances for the demo customers from the bank's capital, a few registered
boletos to pay, and a debit card for any account opened before cards existed (idempotent)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts import hooks  # noqa: F401 - demo customers registered by seed_demo get accounts
from laura.bank.accounts import service as accounts
from laura.bank.accounts.repository import AccountRepository
from laura.bank.bills import service as bills
from laura.bank.bills.barcode import build_bank_line, parse_bill
from laura.bank.bills.models import RegisteredBill
from laura.bank.cards import hooks as _card_hooks  # noqa: F401 - demo customers registered by seed_demo get cards
from laura.bank.cards import service as cards
from laura.bank.cards.issuer import open_issuer
from laura.core.db import Database
from laura.core.models import uuid7
from laura.core.money import to_cents
from laura.ledger import service as ledger
from laura.settings import Settings

DEMO_FUNDING = {
    "ana@laura.dev": Decimal("5000.00"),
    "bruno@laura.dev": Decimal("2500.00"),
    "carla@laura.dev": Decimal("1000.00"),
}

DEMO_BILLS = [
    ("341", Decimal("154.50"), 20, "Empresa XYZ Ltda"),
    ("237", Decimal("89.90"), 5, "Escola Aprender"),
    ("001", Decimal("320.00"), 45, "Condomínio Jardim"),
]
"""(bank, amount, days until due, recipient): slips the demo can validate and pay."""


def demo_bill_lines(today: date) -> list[tuple[str, RegisteredBill]]:
    """Valid typed lines for the demo slips, with their registered rows (free field fixed per slip)."""
    result = []
    for n, (bank, amount, days, recipient) in enumerate(DEMO_BILLS, start=1):
        due = today + timedelta(days=days)
        line = build_bank_line(bank, amount, due, f"{n:025d}")
        bill = parse_bill(line)
        result.append(
            (
                line,
                RegisteredBill(
                    id=uuid7(),
                    barcode=bill.barcode,
                    recipient=recipient,
                    amount_cents=to_cents(amount),
                    due_date=due,
                    payment_limit=due + timedelta(days=30),
                ),
            )
        )
    return result


async def fund_customer(
    session: AsyncSession, user_id: uuid.UUID, amount: Decimal, *, reference: str
) -> None:
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
    """Cards for accounts that have none, and the demo customers funded once; running it again changes nothing
    (ledger references are unique, and an account that has had a physical card gets no other)."""
    db = Database(settings.required_database_url)
    try:
        issuer = await open_issuer(db, settings)
        async with db.unit_of_work() as session:
            await cards.issue_missing_cards(session, issuer)
            repo = AccountRepository(session)
            for email, amount in DEMO_FUNDING.items():
                user_id = await repo.user_id_by_email(email)
                if user_id is None or await repo.by_user(user_id) is None:
                    continue
                await fund_customer(session, user_id, amount, reference=f"seed:funding:{user_id}")
            for _, registered in demo_bill_lines(date.today()):
                await bills.register_bill(session, registered)
    finally:
        await db.dispose()
