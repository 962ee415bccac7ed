"""`POST /drivers/{id}/location`: range and freshness checks, the current position with its H3 cell, the
daily-partitioned trail, the passenger's live map during a ride, and the Redis GEO mirror."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from laura.app import create_app
from laura.mobility.matching.geo import cell_of
from laura.mobility.matching.service import h3_int
from tests.mobility.conftest import TEST_REDIS_URL
from tests.mobility.support import PAULISTA, accept, admin, driver, passenger, request_ride


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _one(app, sql: str, **params):
    async with app.state.db.sessionmaker() as session:
        return (await session.execute(text(sql), params)).first()


async def test_out_of_range_stale_or_future_positions_are_422(app, client):
    handle = await driver(client, await admin(app, client), at=None)
    now = datetime.now(UTC)
    bad = [
        {"lat": 90.5, "lon": -46.6, "recordedAt": _iso(now)},
        {"lat": -23.5, "lon": -180.5, "recordedAt": _iso(now)},
        {"lat": 0, "lon": 0, "recordedAt": _iso(now)},
        {"lat": -23.5, "lon": -46.6, "recordedAt": _iso(now + timedelta(minutes=1))},
        {"lat": -23.5, "lon": -46.6, "recordedAt": _iso(now - timedelta(minutes=3))},
        {"lat": -23.5, "lon": -46.6, "recordedAt": "2026-01-01T10:00:00"},
        {"lat": -23.5, "lon": -46.6, "recordedAt": _iso(now), "speed": -1},
    ]
    for body in bad:
        answer = await client.post(f"/drivers/{handle.id}/location", json=body, headers=handle.headers)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"] == "VALIDATION_ERROR"
    assert (
        await _one(app, "SELECT 1 FROM driver_locations WHERE driver_id = :d", d=uuid.UUID(handle.id)) is None
    )


async def test_a_position_is_indexed_by_its_cell_and_appended_to_the_trail(app, client):
    handle = await driver(client, await admin(app, client), at=None)
    now = datetime.now(UTC).replace(microsecond=0)
    lat, lon = PAULISTA
    body = {"lat": lat, "lon": lon, "heading": 90, "speed": 8.5, "accuracy": 5, "recordedAt": _iso(now)}
    stored = await client.post(f"/drivers/{handle.id}/location", json=body, headers=handle.headers)
    assert stored.status_code == 200 and stored.json()["current"] is True
    resent = await client.post(f"/drivers/{handle.id}/location", json=body, headers=handle.headers)
    assert resent.status_code == 200 and resent.json()["current"] is False
    older = {**body, "lat": lat + 0.001, "recordedAt": _iso(now - timedelta(seconds=10))}
    assert (await client.post(f"/drivers/{handle.id}/location", json=older, headers=handle.headers)).json()[
        "current"
    ] is False

    row = await _one(app, "SELECT * FROM driver_locations WHERE driver_id = :d", d=uuid.UUID(handle.id))
    assert (row.lat, row.lon, row.h3_cell, row.available) == (lat, lon, h3_int(cell_of(lat, lon)), True)
    assert row.recorded_at == now and row.category == "standard"
    trail = await _one(
        app, "SELECT count(*) AS n FROM location_updates WHERE driver_id = :d", d=uuid.UUID(handle.id)
    )
    assert trail.n == 2
    partition = await _one(
        app,
        "SELECT tableoid::regclass::text AS part FROM location_updates"
        " WHERE driver_id = :d AND recorded_at = :t",
        d=uuid.UUID(handle.id),
        t=now,
    )
    assert partition.part == f"location_updates_{now:%Y%m%d}"

    offline = await client.post(
        f"/drivers/{handle.id}/online", json={"online": False}, headers=handle.headers
    )
    assert offline.json()["status"] == "offline"
    row = await _one(
        app, "SELECT available FROM driver_locations WHERE driver_id = :d", d=uuid.UUID(handle.id)
    )
    assert row.available is False


async def test_a_missing_day_partition_is_created_on_the_fly(app, client):
    handle = await driver(client, await admin(app, client), at=None)
    today = datetime.now(UTC)
    async with app.state.db.unit_of_work() as session:
        await session.execute(text(f'DROP TABLE "location_updates_{today:%Y%m%d}"'))
    assert (await handle.locate(client, *PAULISTA)).status_code == 200
    row = await _one(
        app, "SELECT count(*) AS n FROM location_updates WHERE driver_id = :d", d=uuid.UUID(handle.id)
    )
    assert row.n == 1


async def test_partition_maintenance_creates_the_week_ahead_and_drops_expired_days(app, settings):
    from laura.core.jobs import JobRuntime, bind_runtime
    from laura.mobility.matching.tasks import location_partitions

    async with app.state.db.unit_of_work() as session:
        await session.execute(text("SELECT mobility_ensure_location_partitions(DATE '2020-01-01', 1)"))
    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        outcome = await location_partitions(timestamp=0)
    assert "location_updates_20200101" in outcome["dropped"]
    ahead = (datetime.now(UTC) + timedelta(days=7)).date()
    assert await _one(app, "SELECT to_regclass(:n) AS t", n=f"location_updates_{ahead:%Y%m%d}") != (None,)


async def test_during_a_ride_the_passenger_gets_the_drivers_position(app, client):
    handle = await driver(client, await admin(app, client))
    user, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert (await accept(client, handle, ride["id"])).status_code == 200

    moved = await handle.locate(client, PAULISTA[0] + 0.001, PAULISTA[1], heading=180)
    assert moved.status_code == 200 and moved.json()["rideId"] == ride["id"]
    event = await _one(
        app,
        "SELECT data, user_ids FROM outbox WHERE type = 'driver.location.updated' ORDER BY id DESC LIMIT 1",
    )
    assert [str(u) for u in event.user_ids] == [user["id"]]
    assert event.data["rideId"] == ride["id"] and event.data["lat"] == PAULISTA[0] + 0.001
    assert event.data["status"] == "DRIVER_ARRIVING" and event.data["pickupEtaSeconds"] > 0
    trail = await _one(
        app, "SELECT count(*) AS n FROM location_updates WHERE ride_id = :r", r=uuid.UUID(ride["id"])
    )
    assert trail.n == 1


@pytest.fixture
def redis_url(with_and_without_redis: str | None) -> str | None:
    return with_and_without_redis


async def test_the_redis_mirror_follows_positions_and_availability(app, client, redis_url, redis_namespace):
    if redis_url is None:
        pytest.skip("checks the Redis mirror")
    handle = await driver(client, await admin(app, client), category="comfort")
    redis = Redis.from_url(TEST_REDIS_URL)
    key = f"{{{redis_namespace}}}:drivers:geo:comfort"
    try:
        assert await redis.zscore(key, handle.id) is not None
        await client.post(f"/drivers/{handle.id}/online", json={"online": False}, headers=handle.headers)
        assert await redis.zscore(key, handle.id) is None
        await client.post(f"/drivers/{handle.id}/online", json={"online": True}, headers=handle.headers)
        assert await redis.zscore(key, handle.id) is not None
        _, rider = await passenger(client)
        ride = (await request_ride(client, rider, category="comfort")).json()
        assert ride["status"] == "OFFERED"
        assert (await accept(client, handle, ride["id"])).status_code == 200
        assert await redis.zscore(key, handle.id) is None
    finally:
        await redis.aclose()


async def test_location_reports_have_a_per_driver_limit_instead_of_the_per_ip_default(app, client, settings):
    handle = await driver(client, await admin(app, client), at=None)
    limited = create_app(
        settings.model_copy(
            update={
                "redis_url": None,  # in-memory windows: a fresh count for this app only
                "rate_limits_enabled": True,
                "rate_limit_default": "3/minute",
                "rate_limit_driver_location": "4/minute",
            }
        )
    )
    lat, lon = PAULISTA
    async with (
        limited.router.lifespan_context(limited),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://testserver") as http,
    ):
        reports = [
            await http.post(
                f"/drivers/{handle.id}/location",
                json={"lat": lat, "lon": lon, "recordedAt": _iso(datetime.now(UTC))},
                headers=handle.headers,
            )
            for _ in range(5)
        ]
        reads = [(await http.get("/drivers/me", headers=handle.headers)).status_code for _ in range(4)]
    assert [r.status_code for r in reports] == [200, 200, 200, 200, 429]
    assert int(reports[-1].headers["Retry-After"]) >= 1
    assert reads == [200, 200, 200, 429]
