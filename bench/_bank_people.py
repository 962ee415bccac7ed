"""The bank's people the benches load: customers with funded accounts (a cheap password hash, so logging
them in costs little) and customers holding active cards, sealed as issuing seals them.

bench/transfers.py, bench/card_auth.py and bench/mixed_day.py load them the same way from here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.service import open_checking_account
from laura.bank.cards.crypto import CardMacs, new_cvv, new_number
from laura.bank.cards.keys import open_keyring
from laura.bank.seed import fund_customer
from laura.core.db import Database
from laura.core.security import FieldCipher

FUNDING = Decimal("1000000.00")
CARD_MASTER_KEY = b"b" * 32
"""The server's master key (LAURA_SECRET_KEY) the cards' MACs are made under."""
CARD_EXPIRY = "12/30"


async def _add_funded(session: AsyncSession, users: list[tuple[uuid.UUID, str]], password_hash: str) -> None:
    """Insert the customers (id, email), open their checking accounts and credit FUNDING from equity."""
    await session.execute(
        text(
            "INSERT INTO users (id, email, password_hash, name, role)"
            " SELECT unnest(CAST(:ids AS uuid[])), unnest(CAST(:emails AS text[])), :hash, 'Bench', 'customer'"
        ),
        {"ids": [u for u, _ in users], "emails": [e for _, e in users], "hash": password_hash},
    )
    for user_id, _ in users:
        await open_checking_account(session, user_id, "Bench")
        await fund_customer(session, user_id, FUNDING, reference=f"bench:{user_id}")


async def seed_customers(url: str, count: int, password: str) -> list[tuple[uuid.UUID, str]]:
    """Insert `count` customers with `password`, open and fund their accounts; returns (id, email)."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)
    users = [(uuid.uuid4(), f"bench-{n}@laura.bench") for n in range(count)]
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            await _add_funded(session, users, cheap)
    finally:
        await db.dispose()
    return users


async def seed_cards(url: str, customers: int, per_customer: int) -> list[tuple[str, str]]:
    """Open and fund `customers` accounts and COPY `per_customer` active physical cards onto each (limits
    far above the run's spend), sealed under the first data key as issuing seals them; returns each card's
    (number, cvv)."""
    macs = CardMacs(CARD_MASTER_KEY)
    users = [uuid.uuid4() for _ in range(customers)]
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            await _add_funded(session, [(u, f"card-{u}@laura.bench") for u in users], "x")
        keyring = await open_keyring(db, FieldCipher(CARD_MASTER_KEY), macs)
        async with db.unit_of_work() as session:
            vault = await keyring.sealing(session)
    finally:
        await db.dispose()
    conn = await asyncpg.connect(url)
    try:
        accounts = dict(await conn.fetch("SELECT user_id, id FROM bank_accounts"))
        cards, records, numbers = [], [], set()
        expires_at = datetime(2030, 12, 31, 23, 59, 59, tzinfo=UTC)
        for user_id in users:
            for _ in range(per_customer):
                number = new_number("453211")
                while number in numbers:  # 9 random digits: among 10,000 a repeat is ~5% likely
                    number = new_number("453211")
                numbers.add(number)
                card_id, cvv = uuid.uuid4(), new_cvv()
                sealed = vault.seal(card_id, number, cvv)
                cards.append((number, cvv))
                records.append(
                    (card_id, user_id, accounts[user_id], "PHYSICAL", "VISA", sealed.last_four)
                    + (
                        sealed.number_hash,
                        sealed.cvv_mac,
                        sealed.number_sealed,
                        sealed.cvv_sealed,
                        sealed.key_id,
                    )
                    + ("BENCH", "ACTIVE", CARD_EXPIRY, expires_at, 10**12, 10**13)
                )
        columns = [
            "id", "user_id", "account_id", "type", "brand", "last_four", "number_hash", "cvv_mac",
            "number_sealed", "cvv_sealed", "key_id", "holder_name", "status", "expiry_date", "expires_at",
            "daily_limit_cents", "monthly_limit_cents",
        ]  # fmt: skip
        await conn.copy_records_to_table("cards", records=records, columns=columns)
        await conn.execute("ANALYZE cards")
    finally:
        await conn.close()
    return cards
