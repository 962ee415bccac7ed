"""`mobility_ensure_location_partitions` and `mobility_drop_location_partitions_before`
(laura/mobility/matching/sql/location_partitions.sql) called directly: missing days are created once, and
only days before the cutoff are dropped, oldest first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from laura.core.db import Database
from tests.sql_support import rows, scalar

PARTITIONS = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'location_updates'::regclass AND c.relname LIKE 'location_updates_1999%' ORDER BY 1"
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_days_are_created_once_and_dropped_before_the_cutoff(db: Database) -> None:
    assert await scalar(db, "SELECT mobility_ensure_location_partitions(DATE '1999-12-30', 3)") == 3
    assert await scalar(db, "SELECT mobility_ensure_location_partitions(DATE '1999-12-29', 2)") == 1
    assert await rows(db, PARTITIONS) == [
        ("location_updates_19991229",),
        ("location_updates_19991230",),
        ("location_updates_19991231",),
    ]
    landed = await scalar(
        db,
        "INSERT INTO location_updates (driver_id, lat, lon, recorded_at)"
        " VALUES (gen_random_uuid(), 0, 0, '1999-12-31 23:59:59.999+00') RETURNING tableoid::regclass::text",
    )
    assert landed == "location_updates_19991231"

    dropped = await rows(db, "SELECT mobility_drop_location_partitions_before(DATE '1999-12-31')")
    assert dropped == [("location_updates_19991229",), ("location_updates_19991230",)]
    assert await rows(db, PARTITIONS) == [("location_updates_19991231",)]
