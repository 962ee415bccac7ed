"""Bank test helpers: customers with funded accounts, straight through the ledger."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from laura.bank.seed import fund_customer
from tests.helpers import auth_headers


async def funded_customer(app, client: httpx.AsyncClient, amount: Decimal | str = "0") -> tuple[dict, dict]:
    """Register a customer (which opens their account) and credit `amount` from equity."""
    user, headers = await auth_headers(client)
    if Decimal(amount) > 0:
        async with app.state.db.unit_of_work() as session:
            await fund_customer(
                session, uuid.UUID(user["id"]), Decimal(amount), reference=f"test:{uuid.uuid4()}"
            )
    return user, headers


async def balance(client: httpx.AsyncClient, headers: dict) -> Decimal:
    response = await client.get("/api/accounts/me", headers=headers)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["balance"]))
