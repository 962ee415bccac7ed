"""The summary's Redis cache (key `budget:{userId}`): filled by a read, dropped after the commit of every
write that changes the customer's spending or budgets (a job's too), never refilled with what a read saw
before such a write; and the same answers without Redis."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis

from laura.bank.budgets.cache import SummaryCache
from laura.bank.transfers.tasks import settle_ted
from laura.core.db import Database
from laura.core.jobs import JobRuntime, bind_runtime
from laura.core.models import utcnow
from tests.bank.budgets.support import buy, created, customer_with_card, summary
from tests.helpers import TEST_REDIS_URL, redis_reachable


@pytest.fixture
def redis_url() -> str:
    if not redis_reachable(TEST_REDIS_URL):
        pytest.skip("no Redis at LAURA_TEST_REDIS_URL")
    return TEST_REDIS_URL


@pytest.fixture
async def redis(redis_url: str):
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_the_summary_is_cached_and_dropped_by_spending_and_budget_writes(app, client, redis) -> None:
    user, headers, card = await customer_with_card(app, client)
    key = f"budget:{user['id']}"
    budget = await created(client, headers, limit=100.00)

    first = await summary(client, headers)
    assert await redis.exists(key) == 1
    assert 0 < await redis.ttl(key) <= 15 * 60
    assert await summary(client, headers) == first

    await buy(client, card, "40.00")
    assert await redis.exists(key) == 0
    assert (await summary(client, headers))["totalSpent"] == 40.0

    await client.patch(f"/api/budgets/{budget['id']}", json={"limit": 50.00}, headers=headers)
    assert await redis.exists(key) == 0
    assert (await summary(client, headers))["budgets"][0]["status"] == "WARNING"
    await client.delete(f"/api/budgets/{budget['id']}", headers=headers)
    assert (await summary(client, headers))["budgets"] == []


async def test_a_read_from_before_a_write_is_not_stored(app, redis) -> None:
    cache = SummaryCache(redis, 900)
    user_id = uuid.uuid4()
    _, generation = await cache.get(user_id, utcnow())

    await cache.invalidate(user_id)  # a spending write committed while the read computed
    await cache.put(user_id, {"stale": True}, generation, utcnow().replace(year=2999))

    assert await redis.exists(f"budget:{user_id}") == 0
    _, current = await cache.get(user_id, utcnow())
    await cache.put(user_id, {"fresh": True}, current, utcnow().replace(year=2999))
    assert (await cache.get(user_id, utcnow()))[0] == {"fresh": True}


async def test_an_entry_ends_with_its_period(app, redis) -> None:
    cache = SummaryCache(redis, 900)
    user_id = uuid.uuid4()
    now = utcnow()
    _, generation = await cache.get(user_id, now)
    await cache.put(user_id, {"month": "old"}, generation, now)

    assert (await cache.get(user_id, now))[0] is None


async def test_a_job_that_spends_drops_the_summary_with_a_client_of_its_own(
    app, client, redis, settings
) -> None:
    user, headers, _ = await customer_with_card(app, client)
    key = f"budget:{user['id']}"
    await created(client, headers, category="TRANSFERS", limit=100.00)
    ted = await client.post(
        "/api/transfers/ted",
        json={
            "bank": "001",
            "agency": "0001",
            "account": "123456-7",
            "accountType": "CHECKING",
            "recipientName": "João Silva",
            "amount": 30.00,
        },
        headers=headers,
    )
    assert ted.status_code == 201, ted.text
    assert (await summary(client, headers))["totalSpent"] == 0.0  # held, not spent yet
    assert await redis.exists(key) == 1

    worker_db = Database(
        settings.database_url, settings=settings
    )  # a worker's: sessions without the app's cache
    try:
        with bind_runtime(JobRuntime(db=worker_db, settings=settings)):
            await settle_ted(transfer_id=ted.json()["id"])
    finally:
        await worker_db.dispose()

    assert await redis.exists(key) == 0
    assert (await summary(client, headers))["totalSpent"] == 38.5  # the amount and the TED's fee
