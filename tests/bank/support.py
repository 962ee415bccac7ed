"""Bank test helpers: customers with funded accounts, straight through the ledger."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from laura.bank.seed import fund_customer
from laura.core.db import Database
from tests.helpers import auth_headers


async def funded_customer(app, client: httpx.AsyncClient, amount: Decimal | str = "0") -> tuple[dict, dict]:
    """Register a customer (which opens their account) and credit `amount` from equity."""
    user, headers = await auth_headers(client)
    await fund(app.state.db, user["id"], amount)
    return user, headers


async def fund(db: Database, user_id: str, amount: Decimal | str) -> None:
    """Credit `amount` from equity to the customer's account, through `db` (the app may be another process)."""
    if Decimal(amount) > 0:
        async with db.unit_of_work() as session:
            await fund_customer(
                session, uuid.UUID(user_id), Decimal(amount), reference=f"test:{uuid.uuid4()}"
            )


async def balance(client: httpx.AsyncClient, headers: dict) -> Decimal:
    response = await client.get("/api/accounts/me", headers=headers)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["balance"]))
