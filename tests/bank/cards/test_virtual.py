"""Virtual cards: the number and CVV in the creation's answer only, every refusal writing nothing, at most
`card_max_virtual` live ones, and an idempotent replay that does not store the number."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest
from sqlalchemy import text
from stdnum import luhn

from laura.bank.transfers.calendar import BRASILIA
from tests.bank.cards.support import card_count, cards, in_days, number_of, physical, virtual
from tests.helpers import auth_headers


async def test_a_virtual_card_shows_its_number_once_and_is_listed_without_it(app, client):
    _, headers = await auth_headers(client)
    response = await virtual(client, headers, limit=250.5, description="Assinaturas")
    assert response.status_code == 201, response.text
    body = response.json()
    digits = body["number"].replace(" ", "")
    assert len(body["number"]) == 19 and luhn.is_valid(digits) and digits.endswith(body["lastFourDigits"])
    assert len(body["cvv"]) == 3 and body["type"] == "VIRTUAL" and body["status"] == "ACTIVE"
    assert (
        body["limit"] == 250.5 and body["description"] == "Assinaturas" and body["holderName"] == "TEST USER"
    )
    assert (digits, body["cvv"]) == await number_of(app, body["id"])
    listed = {c["id"]: c for c in await cards(client, headers)}
    card = listed[body["id"]]
    assert card["limit"] == 250.5 and card["description"] == "Assinaturas" and "number" not in card
    assert card["dailyLimit"] == 5000.0 and card["spentToday"] == 0.0 and len(listed) == 2
    expires = body["expiresAt"]
    assert card["expiresAt"] == expires
    assert card["expiryDate"] == datetime.fromisoformat(expires).astimezone(BRASILIA).strftime("%m/%y")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"limit": 0}, "VALIDATION_ERROR"),
        ({"limit": -10.0}, "VALIDATION_ERROR"),
        ({"limit": 10.123}, "VALIDATION_ERROR"),
        ({"limit": "500.00"}, "VALIDATION_ERROR"),
        ({"expiresAt": "2026-02-15T23:59:59"}, "VALIDATION_ERROR"),  # no zone
        ({"expiresAt": in_days(-1)}, "INVALID_EXPIRY_DATE"),
        ({"expiresAt": in_days(365 * 6)}, "INVALID_EXPIRY_DATE"),  # past the physical card's expiry
        ({"description": "x" * 101}, "VALIDATION_ERROR"),
        ({"cardNumber": "4532111111111111"}, "VALIDATION_ERROR"),  # unknown field
    ],
)
async def test_each_invalid_request_is_422_and_writes_nothing(app, client, body, error):
    _, headers = await auth_headers(client)
    before = await card_count(app)
    response = await virtual(client, headers, **body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == error
    assert await card_count(app) == before


async def test_expiry_may_be_exactly_the_physical_cards_expiry(app, client):
    _, headers = await auth_headers(client)
    async with app.state.db.engine.connect() as conn:
        expires = await conn.scalar(text("SELECT expires_at FROM cards WHERE type = 'PHYSICAL'"))
    at = expires.isoformat().replace("+00:00", "Z")
    assert (await virtual(client, headers, expiresAt=at)).status_code == 201


async def test_at_most_five_live_virtual_cards_even_when_asked_for_at_once(app, client):
    _, headers = await auth_headers(client)
    answers = await asyncio.gather(*(virtual(client, headers) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [201] * 5 + [422] * 3
    refused = [a.json() for a in answers if a.status_code == 422]
    assert {r["error"] for r in refused} == {"VIRTUAL_CARD_LIMIT_REACHED"}
    assert len(await cards(client, headers)) == 6
    one = next(a.json()["id"] for a in answers if a.status_code == 201)
    blocked = await client.post(f"/api/cards/{one}/block", json={"action": "BLOCK"}, headers=headers)
    assert blocked.status_code == 200
    assert (await virtual(client, headers)).status_code == 422  # a blocked one still counts
    cancelled = await client.post(f"/api/cards/{one}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert (await virtual(client, headers)).status_code == 201  # a cancelled one does not
    listed = await cards(client, headers)
    assert len(listed) == 7 and {c["status"] for c in listed if c["id"] == one} == {"CANCELLED"}


async def test_an_account_that_is_not_active_gets_no_virtual_card(app, client):
    user, headers = await auth_headers(client)
    async with app.state.db.unit_of_work() as session:
        await session.execute(
            text("UPDATE bank_accounts SET status = 'BLOCKED' WHERE user_id = :id"), {"id": user["id"]}
        )
    before = await card_count(app)
    response = await virtual(client, headers)
    assert response.status_code == 403 and response.json()["error"] == "ACCOUNT_NOT_ACTIVE"
    assert await card_count(app) == before


async def test_without_a_live_physical_card_no_virtual_card(app, client):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    async with app.state.db.unit_of_work() as session:
        await session.execute(
            text("UPDATE cards SET status = 'CANCELLED' WHERE id = :id"), {"id": card["id"]}
        )
    response = await virtual(client, headers)
    assert response.status_code == 422 and response.json()["error"] == "PHYSICAL_CARD_REQUIRED"


async def test_a_replay_answers_the_same_card_without_its_number_or_cvv(app, client):
    _, headers = await auth_headers(client)
    key = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"limit": 100.0, "expiresAt": in_days(10), "description": "Viagem"}
    first = await client.post("/api/cards/virtual", json=body, headers=key)
    again = await client.post("/api/cards/virtual", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and first.json()["number"] is not None
    assert again.json()["number"] is None and again.json()["cvv"] is None
    assert {k: v for k, v in again.json().items() if k not in ("number", "cvv")} == {
        k: v for k, v in first.json().items() if k not in ("number", "cvv")
    }
    assert len(await cards(client, headers)) == 2
    digits = first.json()["number"].replace(" ", "")
    async with app.state.db.engine.connect() as conn:
        stored = await conn.scalar(text("SELECT string_agg(response_body::text, '') FROM idempotency_keys"))
    assert digits not in stored and first.json()["number"] not in stored and '"cvv": null' in stored
