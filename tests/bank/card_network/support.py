"""Card network test helpers: cards written straight into the tables (as the issuing side would leave
them), authorizations over HTTP, and the customer's money read from the ledger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from laura.bank.accounts.service import ledger_code
from laura.bank.cards.crypto import new_cvv, new_number
from laura.core.db import execute
from laura.ledger import service as ledger
from tests.bank.card_network.conftest import API_KEY
from tests.sql_support import rows

NETWORK = {"X-Api-Key": API_KEY}
MERCHANT = {"name": "Supermercado Pão Dourado", "mcc": "5411", "city": "São Paulo", "country": "BR"}


@dataclass(frozen=True)
class IssuedCard:
    id: uuid.UUID
    user_id: uuid.UUID
    number: str
    cvv: str
    expiry: str


async def make_card(
    app,
    user_id: str | uuid.UUID,
    *,
    type: str = "PHYSICAL",
    status: str = "ACTIVE",
    daily_limit_cents: int = 5_000_00,
    monthly_limit_cents: int = 20_000_00,
    limit_cents: int | None = None,
    expires_at: datetime | None = None,
    cvv: str | None = None,
) -> IssuedCard:
    """A card of the customer's account with the status, limits and expiry given, sealed under the app's
    newest data key as the issuing side leaves its cards (the network reads only the MACs)."""
    user = uuid.UUID(str(user_id))
    number, cvv = new_number("453211"), cvv or new_cvv()
    expires_at = expires_at or datetime.now(UTC) + timedelta(days=3 * 365)
    expiry = expires_at.strftime("%m/%y")
    card_id = uuid.uuid4()
    async with app.state.db.unit_of_work() as session:
        vault = await app.state.card_issuer.keyring.sealing(session)
        sealed = vault.seal(card_id, number, cvv)
        await execute(
            session,
            "INSERT INTO cards (id, user_id, account_id, type, brand, last_four, number_hash, cvv_mac,"
            " number_sealed, cvv_sealed, key_id, holder_name, status, expiry_date, expires_at,"
            " daily_limit_cents, monthly_limit_cents, limit_cents)"
            " SELECT $1, $2, a.id, $3, 'VISA', $4, $5, $6, $13, $14, $15, 'TEST USER', $7, $8, $9,"
            " $10, $11, $12 FROM bank_accounts a WHERE a.user_id = $2",
            card_id,
            user,
            type,
            sealed.last_four,
            sealed.number_hash,
            sealed.cvv_mac,
            status,
            expiry,
            expires_at,
            daily_limit_cents,
            monthly_limit_cents,
            limit_cents,
            sealed.number_sealed,
            sealed.cvv_sealed,
            sealed.key_id,
        )
    return IssuedCard(card_id, user, number, cvv, expiry)


def purchase(card: IssuedCard, amount: str | Decimal, key: str | None = None, **overrides: Any) -> dict:
    """An authorization request body for `card`."""
    body = {
        "cardNumber": card.number,
        "expiry": card.expiry,
        "cvv": card.cvv,
        "amount": float(Decimal(amount)),
        "currency": "BRL",
        "merchant": MERCHANT,
        "idempotencyKey": key or str(uuid.uuid4()),
    }
    return {**body, **overrides}


async def authorize(client: httpx.AsyncClient, body: dict) -> dict:
    response = await client.post("/api/card-network/authorizations", json=body, headers=NETWORK)
    assert response.status_code == 200, response.text
    return response.json()


async def change(
    client: httpx.AsyncClient, authorization_id: str, action: str, body: dict | None = None
) -> httpx.Response:
    return await client.post(
        f"/api/card-network/authorizations/{authorization_id}/{action}", json=body or {}, headers=NETWORK
    )


async def money(app, user_id: str | uuid.UUID) -> tuple[Decimal, Decimal]:
    """The customer's (posted balance, available) in reais, from the ledger."""
    async with app.state.db.sessionmaker() as session:
        found = await ledger.balance(session, ledger_code(user_id))
    return Decimal(found.posted) / 100, Decimal(found.available) / 100


async def verify_clean(app) -> None:
    async with app.state.db.sessionmaker() as session:
        report = await ledger.verify(session)
    assert report.problems == [], report.problems


async def card_rows(app, card: IssuedCard) -> list[tuple]:
    """(status, decline_code, amount, captured, refunded) of the card's transactions, oldest first."""
    return await rows(
        app.state.db,
        "SELECT status, decline_code, amount_cents, captured_cents, refunded_cents FROM card_transactions"
        " WHERE card_id = $1 ORDER BY created_at, id",
        card.id,
    )


async def settlement(app) -> tuple[Decimal, Decimal]:
    """(posted, pending) of 2200, the card network settlement payable, in reais."""
    async with app.state.db.sessionmaker() as session:
        found = await ledger.balance(session, "2200")
    return Decimal(found.posted) / 100, Decimal(found.pending) / 100
