"""Cards test helpers: a customer's cards over HTTP, a card's number read back from the database, an
authenticator enrolled for the reveal of details."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp
from sqlalchemy import text


async def cards(client: httpx.AsyncClient, headers: dict) -> list[dict]:
    response = await client.get("/api/cards", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def physical(client: httpx.AsyncClient, headers: dict) -> dict:
    [card] = [c for c in await cards(client, headers) if c["type"] == "PHYSICAL" and c["status"] == "ACTIVE"]
    return card


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


async def virtual(client: httpx.AsyncClient, headers: dict, **body) -> httpx.Response:
    return await client.post(
        "/api/cards/virtual",
        json={"limit": 500.00, "expiresAt": in_days(30), "description": "Compras online", **body},
        headers=headers,
    )


async def card_count(app) -> int:
    async with app.state.db.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM cards")))


async def number_of(app, card_id: str) -> tuple[str, str]:
    """The card's number and CVV, opened with the app's data keys (what the holder's reveal shows)."""
    async with app.state.db.unit_of_work() as session:
        row = (
            await session.execute(
                text("SELECT key_id, number_sealed, cvv_sealed FROM cards WHERE id = :id"), {"id": card_id}
            )
        ).one()
        vault = await app.state.card_issuer.keyring.opening(session, row.key_id)
        return vault.open(uuid.UUID(card_id), row.key_id, row.number_sealed, row.cvv_sealed)


async def enrolled(client: httpx.AsyncClient, headers: dict) -> pyotp.TOTP:
    """Enroll and confirm an authenticator for the customer; its confirming step is spent."""
    enrolled = await client.post("/api/security/otp/enroll", headers=headers)
    assert enrolled.status_code == 200, enrolled.text
    totp = pyotp.TOTP(parse_qs(urlparse(enrolled.json()["otpauthUri"]).query)["secret"][0])
    confirmed = await client.post("/api/security/otp/confirm", json={"code": totp.now()}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    return totp


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the step after now's: accepted (one step of drift) and not the confirming one."""
    return totp.at(datetime.now(UTC) + timedelta(seconds=30))


async def reveal(client: httpx.AsyncClient, headers: dict, card_id: str, code: str | None) -> httpx.Response:
    extra = {} if code is None else {"X-Verification-Code": code}
    return await client.get(f"/api/cards/{card_id}/details", headers={**headers, **extra})
