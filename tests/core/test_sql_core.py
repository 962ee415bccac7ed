"""The core's SQL functions (laura/core/sql/) called directly: `uuid7`, `iso_utc`, and the Idempotency-Key's
`idempotency_claim` / `idempotency_store`, each outcome."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from laura.core.db import Database
from tests.sql_support import rows, scalar

LATER = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_uuid7_is_version_7_and_time_ordered(db: Database) -> None:
    before = datetime.now(UTC)
    ids = [uuid.UUID(str(u)) for (u,) in await rows(db, "SELECT uuid7() FROM generate_series(1, 50)")]
    assert {u.version for u in ids} == {7} and {u.variant for u in ids} == {uuid.RFC_4122}
    millis = [u.int >> 80 for u in ids]
    assert millis == sorted(millis)
    assert abs(millis[0] / 1000 - before.timestamp()) < 60


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 6, 1, 9, 0, tzinfo=UTC) + timedelta(microseconds=500000),
    ],
)
async def test_iso_utc_is_pythons_isoformat(db: Database, moment: datetime) -> None:
    assert await scalar(db, "SELECT iso_utc($1)", moment) == moment.isoformat()
    assert await scalar(db, "SELECT iso_utc(NULL)") is None


async def _claim(db: Database, key: str, now: datetime | None = None) -> tuple:
    (claim,) = await rows(
        db, "SELECT * FROM idempotency_claim('owner', $1, $2)", key, now or datetime.now(UTC)
    )
    return claim


async def test_a_key_is_new_then_answered_and_refused_while_another_holds_it(
    db: Database, database_url: str
) -> None:
    assert await _claim(db, "k") == (True, None, None, None)
    await scalar(
        db, "SELECT idempotency_store('owner', 'k', 'h1', 201, $1::jsonb, now(), $2)", '{"a": 1}', LATER
    )
    assert await _claim(db, "k") == (True, "h1", 201, {"a": 1})

    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            assert await holder.fetchval("SELECT got FROM idempotency_claim('owner', 'k', now())")
            assert await _claim(db, "k") == (False, None, None, None)
    finally:
        await holder.close()


async def test_a_live_answer_wins_and_an_expired_one_is_replaced(db: Database) -> None:
    store = "SELECT idempotency_store('owner', 'k', $1, $2, '{}'::jsonb, $3, $4)"
    now = datetime.now(UTC)
    await scalar(db, store, "first", 201, now, now + timedelta(hours=1))
    await scalar(db, store, "second", 409, now, now + timedelta(hours=1))
    assert (await _claim(db, "k"))[1:3] == ("first", 201)

    later = now + timedelta(hours=2)
    assert await _claim(db, "k", later) == (True, None, None, None)
    await scalar(db, store, "third", 200, later, later + timedelta(hours=1))
    assert (await _claim(db, "k", later))[1:3] == ("third", 200)
