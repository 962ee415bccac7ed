"""The outbox by month: months wholly past the retention are dropped by the daily job's `maintain`, a
month still holding an unpublished event is kept (and the relay still publishes it), and the next months
are made ready."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from laura.core.db import Database
from laura.core.events import partitions
from laura.core.events.relay import Relay
from laura.core.jobs import JobRuntime, app, bind_runtime, outbox_partitions_job
from laura.settings import Settings
from tests.core.test_events import pg_bus
from tests.events_support import background, eventually, outbox_rows

NOW = datetime(2026, 4, 3, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def _event(db: Database, kind: str, occurred_at: datetime, *, published: bool) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO outbox (type, data, occurred_at, position, published_at)"
                " VALUES (:kind, '{}', :at, CASE WHEN :published THEN nextval('outbox_position_seq') END,"
                "         CASE WHEN :published THEN CAST(:at AS timestamptz) END)"
            ),
            {"kind": kind, "at": occurred_at, "published": published},
        )


async def _partitions(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'outbox'::regclass ORDER BY 1"
            )
        )
        return list(rows.scalars())


async def test_months_past_retention_are_dropped_unless_an_event_is_still_unpublished(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text("SELECT partitions_ensure_monthly('outbox', '2026-01-01', '2026-03-01')"))
    await _event(db, "test.january", datetime(2026, 1, 5, tzinfo=UTC), published=True)
    await _event(db, "test.february", datetime(2026, 2, 5, tzinfo=UTC), published=False)
    await _event(db, "test.march", datetime(2026, 3, 30, tzinfo=UTC), published=True)

    async with db.unit_of_work() as session:
        done = await partitions.maintain(session, now=NOW, retention_days=7)
    # March ends within the 7 days; February still has an event to publish
    assert done == {"created": 4, "dropped": ["outbox_202601"]}
    names = await _partitions(db)
    assert "outbox_202601" not in names
    assert {"outbox_202602", "outbox_202603", "outbox_202604", "outbox_202607", "outbox_default"} <= set(
        names
    )
    assert [row["type"] for row in await outbox_rows(db)] == ["test.february", "test.march"]

    async with background(Relay(db.url, pg_bus(db), poll_seconds=0.1).run()):
        await eventually(lambda: _published(db, "test.february"))
    async with db.unit_of_work() as session:
        assert await partitions.maintain(session, now=NOW, retention_days=7) == {
            "created": 0,
            "dropped": ["outbox_202602"],
        }


async def _published(db: Database, kind: str) -> bool:
    return any(row["type"] == kind and row["published_at"] for row in await outbox_rows(db))


async def test_the_daily_job_keeps_the_next_months_ready(db: Database, settings: Settings) -> None:
    assert ("core.outbox_partitions", "daily-outbox-partitions") in app.periodic_registry.periodic_tasks
    with bind_runtime(JobRuntime(db=db, settings=settings)):
        done = await outbox_partitions_job(timestamp=0)
    assert done["dropped"] == []
    ahead = datetime.now(UTC) + timedelta(days=80)
    assert f"outbox_{ahead:%Y%m}" in await _partitions(db)
