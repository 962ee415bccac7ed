"""Checking accounts over HTTP: opened at registration, balance, statement pages and CSV."""

from __future__ import annotations

import base64
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from laura.bank.accounts.numbers import is_valid_account_number
from laura.bank.seed import fund_customer
from tests.bank.support import balance, funded_customer
from tests.helpers import auth_headers


async def test_registering_a_customer_opens_an_empty_account(app, client):
    user, headers = await auth_headers(client)
    response = await client.get("/api/accounts/me", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["agency"] == "0001"
    assert is_valid_account_number(body["number"])
    assert body["balance"] == 0 and body["available"] == 0 and body["blocked"] == 0
    async with app.state.db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT type, debits_must_not_exceed_credits FROM ledger_accounts WHERE code = :code"),
                {"code": f"2101.{user['id']}"},
            )
        ).one()
    assert row.type == "LIABILITY" and row.debits_must_not_exceed_credits


async def test_passengers_get_no_bank_account(client):
    _, headers = await auth_headers(client, user_type="passenger")
    response = await client.get("/api/accounts/me", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"] == "ACCOUNT_NOT_FOUND"


async def test_balance_and_statement_with_running_balance(app, client):
    user, headers = await funded_customer(app, client, "100.00")
    async with app.state.db.unit_of_work() as session:
        await fund_customer(session, uuid.UUID(user["id"]), Decimal("25.50"), reference="t:2")
    assert await balance(client, headers) == Decimal("125.50")
    first = await client.get("/api/accounts/me/statement", params={"limit": 1}, headers=headers)
    assert first.status_code == 200
    page = first.json()
    assert [(e["amount"], e["balance"], e["direction"]) for e in page["data"]] == [(25.5, 125.5, "CREDIT")]
    assert page["pagination"]["hasMore"] is True
    second = await client.get(
        "/api/accounts/me/statement",
        params={"limit": 1, "cursor": page["pagination"]["nextCursor"]},
        headers=headers,
    )
    assert [(e["amount"], e["balance"]) for e in second.json()["data"]] == [(100.0, 100.0)]
    assert second.json()["pagination"]["hasMore"] is False


@pytest.mark.parametrize("decoded", [b"[1]", b'"text"', b"5", b"null", b"{oops"])
async def test_a_cursor_that_is_not_one_of_ours_is_a_422(client, decoded):
    _, headers = await auth_headers(client)
    cursor = base64.urlsafe_b64encode(decoded).decode().rstrip("=")
    response = await client.get("/api/accounts/me/statement", params={"cursor": cursor}, headers=headers)
    assert response.status_code == 422
    assert response.json()["details"] == [{"field": "cursor", "message": "malformed"}]


async def test_statement_date_window_and_csv(app, client):
    _, headers = await funded_customer(app, client, "10.00")
    future = await client.get("/api/accounts/me/statement", params={"from": "2999-01-01"}, headers=headers)
    assert future.status_code == 200 and future.json()["data"] == []
    past = await client.get(
        "/api/accounts/me/statement", params={"to": "2000-01-01T00:00:00Z"}, headers=headers
    )
    assert past.json()["data"] == []
    csv = await client.get("/api/accounts/me/statement", params={"format": "csv"}, headers=headers)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("date,type") and ",CREDIT,10.00,10.00," in lines[1]


async def test_account_requires_authentication(client):
    assert (await client.get("/api/accounts/me")).status_code == 401
