"""Webhook deliveries are kept forever unless `LAURA_WEBHOOK_DELIVERIES_RETENTION_DAYS` is set; then the
hourly job deletes the older ones, and the financial events they carried stay, unlinked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from laura.core.db import Database
from laura.core.jobs import JobRuntime, app, bind_runtime
from laura.pix import service
from laura.pix.tasks import prune_webhook_deliveries_job
from laura.settings import Settings

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def _delivery(db: Database, name: str, age_days: int) -> int:
    async with db.engine.begin() as conn:
        delivery_id = await conn.scalar(
            text(
                "INSERT INTO webhook_deliveries (sha256, body, auth, pix_count, received_at)"
                " VALUES (encode(sha256(convert_to(:name, 'UTF8')), 'hex'), convert_to(:name, 'UTF8'), 'hmac', 1, :at)"
                " RETURNING id"
            ),
            {"name": name, "at": NOW - timedelta(days=age_days)},
        )
        await conn.execute(
            text(
                "INSERT INTO financial_events (external_id, kind, status, reason, amount_cents, source,"
                "                              delivery_id, occurred_at, payload)"
                " VALUES (:name, 'pix.received', 'unmatched', 'no_charge', 100, 'webhook', :id, :at, '{}')"
            ),
            {"name": name, "id": delivery_id, "at": NOW - timedelta(days=age_days)},
        )
    return delivery_id


async def _state(db: Database) -> tuple[list[str], dict[str, int | None]]:
    async with db.engine.connect() as conn:
        bodies = await conn.scalars(
            text("SELECT convert_from(body, 'UTF8') FROM webhook_deliveries ORDER BY 1")
        )
        events = await conn.execute(text("SELECT external_id, delivery_id FROM financial_events"))
        return list(bodies), {row.external_id: row.delivery_id for row in events}


async def _prune(db: Database, retention_days: int | None, limit: int = 10_000) -> int:
    async with db.unit_of_work() as session:
        return await service.prune_webhook_deliveries(
            session, now=NOW, retention_days=retention_days, limit=limit
        )


async def test_deliveries_are_kept_by_default_and_pruned_past_the_retention(db: Database) -> None:
    recent = await _delivery(db, "E-recent", age_days=10)
    for n in range(3):
        await _delivery(db, f"E-old-{n}", age_days=100 + n)

    assert await _prune(db, None) == 0
    assert len((await _state(db))[0]) == 4

    assert await _prune(db, 30, limit=2) == 2  # the two oldest first
    assert await _prune(db, 30) == 1
    assert await _prune(db, 30) == 0
    bodies, events = await _state(db)
    assert bodies == ["E-recent"]
    assert events == {"E-recent": recent, "E-old-0": None, "E-old-1": None, "E-old-2": None}


async def test_the_hourly_job_prunes_only_when_the_retention_is_set(db: Database, settings: Settings) -> None:
    assert (
        "pix.prune_webhook_deliveries",
        "pix-prune-webhook-deliveries",
    ) in app.periodic_registry.periodic_tasks
    await _delivery(db, "E-a", age_days=40)
    with bind_runtime(JobRuntime(db=db, settings=settings)):
        assert await prune_webhook_deliveries_job(timestamp=0) == 0
    kept = settings.model_copy(update={"webhook_deliveries_retention_days": 30})
    with bind_runtime(JobRuntime(db=db, settings=kept)):
        assert await prune_webhook_deliveries_job(timestamp=0) == 1
    assert await _state(db) == ([], {"E-a": None})
