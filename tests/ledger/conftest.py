"""Ledger tests run on the service API with their own Database over the fresh per-test database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from laura.core.db import Database
from laura.ledger import service as ledger


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=40, max_overflow=0)
    yield database
    await database.dispose()


async def customer(db: Database, cents: int = 0, *, code: str | None = None) -> str:
    """Open a no-overdraft customer deposit account, funded from equity with `cents`; returns its code."""
    code = code or f"2101.{uuid.uuid4()}"
    async with db.unit_of_work() as session:
        await ledger.open_account(
            session, code=code, name="Cliente", type="LIABILITY", debits_must_not_exceed_credits=True
        )
        if cents:
            await ledger.post(
                session,
                [("3100", "D", cents), (code, "C", cents)],
                reference=f"fund:{code}",
                reason="funding",
            )
    return code


async def balance_of(db: Database, code: str) -> ledger.Balance:
    async with db.sessionmaker() as session:
        return await ledger.balance(session, code)
