"""The database ring search (and the Redis GEO mirror) answer exactly what brute force answers, over
10,000 random drivers around São Paulo with mixed categories, stale positions and unavailable drivers."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from laura.mobility.matching import service as matching
from laura.mobility.matching.geo import cell_of
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.matching.nearest import DriverPosition, nearest_drivers
from laura.mobility.matching.service import MatchingPolicy
from tests.mobility.conftest import TEST_REDIS_URL, redis_reachable

DRIVERS = 10_000
PICKUPS = 300
NOW = datetime.now(UTC).replace(microsecond=0)
CENTRE = (-23.5614, -46.6559)
CATEGORIES = ("standard", "comfort", "premium", "xl")


def _fleet(rng: random.Random) -> list[tuple[DriverPosition, bool]]:
    """(position, available): a dense centre, a sparse suburb ring, 15% unavailable, 10% stale."""
    fleet = []
    for _ in range(DRIVERS):
        spread = 0.05 if rng.random() < 0.7 else 0.25
        lat = CENTRE[0] + rng.uniform(-spread, spread)
        lon = CENTRE[1] + rng.uniform(-spread, spread)
        age = rng.uniform(61, 600) if rng.random() < 0.1 else rng.uniform(0, 59)
        category = rng.choices(CATEGORIES, weights=(6, 2, 1, 1))[0]
        position = DriverPosition(uuid.uuid4(), lat, lon, category, NOW - timedelta(seconds=age))
        fleet.append((position, rng.random() >= 0.15))
    return fleet


async def _store(app, fleet: list[tuple[DriverPosition, bool]]) -> None:
    users = [{"id": uuid.uuid4(), "email": f"fleet-{i}@example.com"} for i in range(len(fleet))]
    drivers = [
        {"id": p.driver_id, "user_id": u["id"], "cpf": f"{i:011d}", "cnh": f"{i:011d}"}
        for i, ((p, _), u) in enumerate(zip(fleet, users))
    ]
    locations = [
        {
            "driver_id": p.driver_id,
            "category": p.category,
            "h3": matching.h3_int(cell_of(p.lat, p.lon)),
            "lat": p.lat,
            "lon": p.lon,
            "recorded_at": p.recorded_at,
            "available": available,
        }
        for p, available in fleet
    ]
    async with app.state.db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO users (id, email, password_hash, name, role)"
                " VALUES (:id, :email, 'x', 'Fleet', 'driver')"
            ),
            users,
        )
        await session.execute(
            text(
                "INSERT INTO drivers (id, user_id, full_name, cpf, cnh_number, pix_key, pix_key_type,"
                " approval_status, online)"
                " VALUES (:id, :user_id, 'Fleet', :cpf, :cnh, 'x@example.com', 'EMAIL',"
                " 'APPROVED', true)"
            ),
            drivers,
        )
        await session.execute(
            text(
                "INSERT INTO driver_locations"
                " (driver_id, category, h3_cell, lat, lon, recorded_at, available)"
                " VALUES (:driver_id, :category, :h3, :lat, :lon, :recorded_at, :available)"
            ),
            locations,
        )


def _queries(rng: random.Random, fleet) -> list[dict]:
    queries = []
    for i in range(PICKUPS):
        spread = 0.06 if i % 3 else 0.3
        pickup = (CENTRE[0] + rng.uniform(-spread, spread), CENTRE[1] + rng.uniform(-spread, spread))
        exclude = {p.driver_id for p, _ in rng.sample(fleet, 50)} if i % 4 == 0 else set()
        queries.append(
            {
                "pickup": pickup,
                "category": rng.choice(CATEGORIES),
                "limit": rng.choice((1, 5, 5, 10, 50)),
                "policy": MatchingPolicy(radius_m=rng.choice((500.0, 2000.0, 5000.0, 12000.0))),
                "exclude": exclude,
            }
        )
    return queries


def _brute(fleet, query) -> list:
    candidates = [p for p, available in fleet if available and p.driver_id not in query["exclude"]]
    policy = query["policy"]
    return nearest_drivers(
        query["pickup"],
        candidates,
        limit=query["limit"],
        radius_m=policy.radius_m,
        category=query["category"],
        now=NOW,
        max_age_s=policy.max_age_s,
        avg_speed_kmh=policy.avg_speed_kmh,
    )


async def test_ring_search_on_the_database_equals_brute_force(app):
    rng = random.Random(20241214)
    fleet = _fleet(rng)
    await _store(app, fleet)
    found_any = 0
    async with app.state.db.sessionmaker() as session:
        for query in _queries(rng, fleet):
            expected = _brute(fleet, query)
            got = await matching.nearest_in_database(
                session,
                query["pickup"],
                category=query["category"],
                limit=query["limit"],
                policy=query["policy"],
                now=NOW,
                exclude=query["exclude"],
            )
            assert got == expected, query
            found_any += bool(expected)
    assert found_any > PICKUPS // 2


async def test_the_redis_geo_mirror_equals_brute_force(app, redis_namespace):
    if not redis_reachable(TEST_REDIS_URL):
        pytest.skip(f"Redis not reachable at {TEST_REDIS_URL}")
    rng = random.Random(7)
    fleet = _fleet(rng)
    await _store(app, fleet)
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        geo = RedisGeoIndex(redis, redis_namespace)
        async with app.state.db.sessionmaker() as session:
            mirrored = await matching.rebuild_geo_index(session, geo)
        assert mirrored == sum(available for _, available in fleet)
        for query in _queries(rng, fleet):
            got = await geo.nearest(
                query["pickup"],
                limit=query["limit"],
                radius_m=query["policy"].radius_m,
                category=query["category"],
                now=NOW,
                max_age_s=query["policy"].max_age_s,
                avg_speed_kmh=query["policy"].avg_speed_kmh,
                exclude=query["exclude"],
            )
            assert got == _brute(fleet, query), query
    finally:
        await redis.aclose()
