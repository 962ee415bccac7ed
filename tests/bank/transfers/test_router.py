"""Transfers over HTTP against the real PostgreSQL: P2P, limits, idempotency, concurrency, list, cancel."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from laura.bank.seed import fund_customer
from laura.bank.transfers.models import Transfer
from laura.core.models import uuid7
from tests.bank.support import balance, funded_customer
from tests.helpers import TEST_REDIS_URL, redis_reachable


async def _p2p(client, headers, recipient, amount="10.00", **extra):
    return await client.post(
        "/api/transfers/p2p",
        json={
            "recipientUserId": recipient["id"],
            "amount": float(amount) if isinstance(amount, str) else amount,
        },
        headers={**headers, **extra},
    )


async def test_p2p_moves_money_audits_and_publishes(app, client):
    sender, s_headers = await funded_customer(app, client, "100.00")
    recipient, r_headers = await funded_customer(app, client)
    response = await client.post(
        "/api/transfers/p2p",
        json={"recipientUserId": recipient["id"], "amount": 40.25, "description": "Divisão de despesa"},
        headers=s_headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == "P2P" and body["status"] == "COMPLETED" and body["amount"] == 40.25
    assert body["recipientUserId"] == recipient["id"] and body["transferredAt"].endswith("Z")
    assert await balance(client, s_headers) == Decimal("59.75")
    assert await balance(client, r_headers) == Decimal("40.25")
    async with app.state.db.engine.connect() as conn:
        audit = await conn.scalar(
            text("SELECT count(*) FROM audit_logs WHERE action = 'TRANSFER_COMPLETED' AND resource_id = :id"),
            {"id": body["id"]},
        )
        events = (await conn.execute(text("SELECT type, user_ids FROM outbox ORDER BY id"))).all()
    assert audit == 1
    assert ("transfer.completed", [uuid.UUID(sender["id"])]) in [(e.type, e.user_ids) for e in events]
    assert ("transfer.received", [uuid.UUID(recipient["id"])]) in [(e.type, e.user_ids) for e in events]


async def test_an_amount_as_a_json_string_is_a_422_and_the_openapi_says_number(app, client):
    _sender, s_headers = await funded_customer(app, client, "100.00")
    recipient, _ = await funded_customer(app, client)
    refused = await client.post(
        "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": "1.00"}, headers=s_headers
    )
    assert refused.status_code == 422
    assert [(d["field"], d["type"]) for d in refused.json()["details"]] == [("amount", "decimal_type")]
    assert await balance(client, s_headers) == Decimal("100.00")
    tenth = await _p2p(client, s_headers, recipient, 0.1)
    assert tenth.status_code == 201 and tenth.json()["amount"] == 0.1
    assert await balance(client, s_headers) == Decimal("99.90")
    spec = (await client.get("/openapi.json")).json()["components"]["schemas"]
    for model in (
        "P2PRequest",
        "PixRequest",
        "TedRequest",
        "PayRequest",
        "ValidateRequest",
        "DepositRequest",
    ):
        amount = spec[model]["properties"]["amount"]
        options = amount.get("anyOf", [amount])
        assert [o["type"] for o in options if o.get("type") != "null"] == ["number"], (model, amount)


async def test_p2p_refusals(app, client):
    sender, headers = await funded_customer(app, client, "20.00")
    recipient, _ = await funded_customer(app, client)
    self_transfer = await _p2p(client, headers, sender)
    assert self_transfer.status_code == 422
    unknown = await _p2p(client, headers, {"id": str(uuid.uuid4())})
    assert unknown.status_code == 404 and unknown.json()["error"] == "USER_NOT_FOUND"
    broke = await _p2p(client, headers, recipient, "20.01")
    assert broke.status_code == 402 and broke.json()["error"] == "INSUFFICIENT_BALANCE"
    for bad in (0, -5, 1.001):
        assert (await _p2p(client, headers, recipient, bad)).status_code == 422
    assert await balance(client, headers) == Decimal("20.00")


async def test_per_transfer_and_daily_limits(app, client, settings):
    app.state.settings = settings.model_copy(
        update={"transfer_max_amount": Decimal("50.00"), "transfer_daily_limit": Decimal("80.00")}
    )
    _, headers = await funded_customer(app, client, "500.00")
    recipient, _ = await funded_customer(app, client)
    too_big = await _p2p(client, headers, recipient, "50.01")
    assert too_big.status_code == 402 and too_big.json()["error"] == "TRANSFER_LIMIT_EXCEEDED"
    assert (await _p2p(client, headers, recipient, "50.00")).status_code == 201
    over_day = await _p2p(client, headers, recipient, "30.01")
    assert over_day.status_code == 402 and over_day.json()["error"] == "TRANSFER_LIMIT_EXCEEDED"
    assert (await _p2p(client, headers, recipient, "30.00")).status_code == 201
    assert await balance(client, headers) == Decimal("420.00")


async def test_rate_limit_ten_transfers_per_hour(app, client, settings):
    app.state.settings = settings.model_copy(update={"rate_limit_transfers": "3/hour"})
    app.state.limiter.enabled = True
    _, headers = await funded_customer(app, client, "100.00")
    recipient, _ = await funded_customer(app, client)
    for _ in range(3):
        assert (await _p2p(client, headers, recipient, "1.00")).status_code == 201
    limited = await _p2p(client, headers, recipient, "1.00")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert await balance(client, headers) == Decimal("97.00")


async def test_fifty_concurrent_transfers_from_an_account_that_affords_ten(app, client):
    _, headers = await funded_customer(app, client, "100.00")
    recipient, r_headers = await funded_customer(app, client)
    responses = await asyncio.gather(*(_p2p(client, headers, recipient, "10.00") for _ in range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 10 and statuses.count(402) == 40, statuses
    assert all(r.json()["error"] == "INSUFFICIENT_BALANCE" for r in responses if r.status_code == 402)
    assert await balance(client, headers) == Decimal("0.00")
    assert await balance(client, r_headers) == Decimal("100.00")
    async with app.state.db.engine.connect() as conn:
        negative = await conn.scalar(
            text(
                "SELECT count(*) FROM ledger_entries WHERE balance_after < 0 AND account_id IN"
                " (SELECT id FROM ledger_accounts WHERE code LIKE '2101.%')"
            )
        )
        rows = await conn.scalar(text("SELECT count(*) FROM transfers"))
    assert negative == 0 and rows == 10


async def test_concurrent_transfers_never_pass_the_daily_limit_together(app, client, settings):
    app.state.settings = settings.model_copy(update={"transfer_daily_limit": Decimal("100.00")})
    _, headers = await funded_customer(app, client, "1000.00")
    recipient, r_headers = await funded_customer(app, client)
    responses = await asyncio.gather(*(_p2p(client, headers, recipient, "30.00") for _ in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 3 and statuses.count(402) == 9, statuses
    assert all(r.json()["error"] == "TRANSFER_LIMIT_EXCEEDED" for r in responses if r.status_code == 402)
    assert await balance(client, r_headers) == Decimal("90.00")


async def test_same_idempotency_key_makes_one_transfer(app, client):
    _, headers = await funded_customer(app, client, "100.00")
    recipient, _ = await funded_customer(app, client)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await _p2p(client, headers, recipient, "10.00", **key)
    again = await _p2p(client, headers, recipient, "10.00", **key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    concurrent = await asyncio.gather(
        *(_p2p(client, headers, recipient, "5.00", **{"Idempotency-Key": "k-2"}) for _ in range(5))
    )
    assert sum(r.status_code == 201 for r in concurrent) >= 1
    assert all(r.status_code in (201, 409) for r in concurrent)
    assert await balance(client, headers) == Decimal("85.00")


async def test_a_logged_out_token_moves_nothing(app, client):
    sender, headers = await funded_customer(app, client, "50.00")
    recipient, r_headers = await funded_customer(app, client)
    stale = dict(headers)
    assert (await client.post("/auth/logout", headers=headers)).status_code == 204
    refused = await _p2p(client, stale, recipient, "10.00", **{"Idempotency-Key": str(uuid.uuid4())})
    assert refused.status_code == 401 and refused.json()["error"] == "INVALID_TOKEN"
    assert await balance(client, r_headers) == Decimal("0.00")
    async with app.state.db.engine.connect() as conn:
        rows = await conn.scalar(
            text("SELECT count(*) FROM transfers WHERE user_id = :id"), {"id": sender["id"]}
        )
        stored = await conn.scalar(
            text("SELECT count(*) FROM idempotency_keys WHERE owner = :id"), {"id": sender["id"]}
        )
    assert rows == 0 and stored == 0


async def test_a_refusal_is_stored_as_the_keys_answer(app, client):
    _, headers = await funded_customer(app, client, "5.00")
    recipient, _ = await funded_customer(app, client)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    broke = await _p2p(client, headers, recipient, "10.00", **key)
    assert broke.status_code == 402 and broke.json()["error"] == "INSUFFICIENT_BALANCE"
    async with app.state.db.unit_of_work() as session:
        user_id = uuid.UUID((await client.get("/auth/me", headers=headers)).json()["id"])
        await fund_customer(session, user_id, Decimal("100.00"), reference=f"test:{uuid.uuid4()}")
    again = await _p2p(client, headers, recipient, "10.00", **key)
    assert again.status_code == 402 and again.json() == broke.json()
    assert again.headers.get("Idempotent-Replayed") == "true"


async def test_balance_cache_is_dropped_after_a_transfer(app, client, settings):
    from redis.asyncio import Redis

    if not redis_reachable(TEST_REDIS_URL):
        pytest.skip(f"Redis not reachable at {TEST_REDIS_URL}")
    app.state.redis = Redis.from_url(TEST_REDIS_URL)
    try:
        _, headers = await funded_customer(app, client, "50.00")
        recipient, r_headers = await funded_customer(app, client)
        assert await balance(client, headers) == Decimal("50.00")
        assert await balance(client, r_headers) == Decimal("0.00")
        assert (await _p2p(client, headers, recipient, "20.00")).status_code == 201
        assert await balance(client, headers) == Decimal("30.00")
        assert await balance(client, r_headers) == Decimal("20.00")
    finally:
        await app.state.redis.aclose()
        app.state.redis = None


async def test_list_get_and_other_customers_transfer_is_404(app, client):
    _, headers = await funded_customer(app, client, "100.00")
    recipient, r_headers = await funded_customer(app, client)
    ids = [(await _p2p(client, headers, recipient, f"{n}.00")).json()["id"] for n in (1, 2, 3)]
    listed = await client.get("/api/transfers", params={"limit": 2, "type": "P2P"}, headers=headers)
    assert listed.status_code == 200
    page = listed.json()
    assert [t["id"] for t in page["data"]] == ids[::-1][:2]
    assert page["pagination"] == {
        "page": 1,
        "limit": 2,
        "total": 3,
        "totalPages": 2,
        "hasMore": True,
        "nextCursor": None,
    }
    by_amount = await client.get("/api/transfers", params={"sort": "amount", "order": "ASC"}, headers=headers)
    assert [t["amount"] for t in by_amount.json()["data"]] == [1.0, 2.0, 3.0]
    assert (await client.get("/api/transfers", params={"status": "FAILED"}, headers=headers)).json()[
        "data"
    ] == []
    detail = await client.get(f"/api/transfers/{ids[0]}", headers=headers)
    assert detail.status_code == 200 and detail.json()["status"] == "COMPLETED"
    other = await client.get(f"/api/transfers/{ids[0]}", headers=r_headers)
    assert other.status_code == 404
    assert (await client.get(f"/api/transfers/{uuid.uuid4()}", headers=headers)).status_code == 404


async def test_cancel_only_scheduled_or_unsent(app, client):
    user, headers = await funded_customer(app, client, "100.00")
    recipient, r_headers = await funded_customer(app, client)
    done = (await _p2p(client, headers, recipient, "1.00")).json()["id"]
    refused = await client.post(f"/api/transfers/{done}/cancel", json={"reason": "x"}, headers=headers)
    assert refused.status_code == 409
    scheduled_id = uuid7()
    async with app.state.db.unit_of_work() as session:
        session.add(
            Transfer(
                id=scheduled_id,
                user_id=uuid.UUID(user["id"]),
                type="PIX",
                amount_cents=500,
                fee_cents=0,
                status="SCHEDULED",
                pix_key="a@b.com",
            )
        )
    other = await client.post(
        f"/api/transfers/{scheduled_id}/cancel", json={"reason": "x"}, headers=r_headers
    )
    assert other.status_code == 404
    cancelled = await client.post(
        f"/api/transfers/{scheduled_id}/cancel", json={"reason": "Mudança de ideia"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "CANCELLED" and body["reason"] == "Mudança de ideia" and body["cancelledAt"]
    again = await client.post(f"/api/transfers/{scheduled_id}/cancel", json={}, headers=headers)
    assert again.status_code == 409


@pytest.mark.parametrize("path", ["/api/transfers", "/api/accounts/me"])
async def test_requires_auth(client, path):
    assert (await client.get(path)).status_code == 401
