"""Nearest-drivers matching on a city's fleet: the H3 ring search on PostgreSQL (and the Redis GEO mirror)
against brute force; prints one JSON line.

    python bench/matching.py [--drivers 100000] [--queries 2000] [--brute-queries 100] [--limit 5]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres) and, when it
answers, LAURA_REDIS_URL (default redis://127.0.0.1:6379/0). Recreates the scratch database
laura_bench_matching at head and loads `drivers` online drivers (COPY) over a 40 km x 40 km box around
São Paulo's centre: 60% within ~8 km of it (gaussian), the rest uniform; 85% available, 60% standard.

Each query is a random pickup in the box asking for the `limit` nearest available standard drivers within
5 km, positions at most 60 s old, answered by `laura.mobility.matching.service.nearest_in_database` on one
SQLAlchemy session (sequential, so latency is per query and qps is one client's). Brute force in the same
run: SQL ordering every available standard driver by haversine distance (a full scan of the category),
and `nearest_drivers` in Python over all positions held in memory. Every ring answer of the brute-force
sample is checked to equal both brute-force answers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from _common import DRIVER_COLUMNS, fresh_database, server_url
from sqlalchemy import text

from laura.core.db import Database
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo import cell_of
from laura.mobility.matching.nearest import DriverPosition, Match, nearest_drivers
from laura.mobility.matching.service import MatchingPolicy

DB_NAME = "laura_bench_matching"
CENTRE = (-23.5505, -46.6333)  # Praça da Sé
HALF_BOX_DEG = 0.18  # ~20 km each way
CATEGORIES = ("standard", "comfort", "premium", "xl")

_BRUTE_SQL = text(
    """
    SELECT driver_id, lat, lon, category, recorded_at FROM (
        SELECT driver_id, lat, lon, category, recorded_at,
               2 * 6371008.8 * asin(least(1, sqrt(
                   power(sin(radians(lat - :lat) / 2), 2)
                   + cos(radians(:lat)) * cos(radians(lat)) * power(sin(radians(lon - :lon) / 2), 2)))) AS d
          FROM driver_locations
         WHERE available AND category = :category AND recorded_at >= :oldest
    ) AS near
     WHERE d <= :radius ORDER BY d, driver_id LIMIT :limit
    """
)


def _fleet(count: int, rng: random.Random, now: datetime) -> list[tuple[DriverPosition, bool]]:
    fleet = []
    for _ in range(count):
        if rng.random() < 0.6:
            lat, lon = rng.gauss(CENTRE[0], 0.05), rng.gauss(CENTRE[1], 0.05)
        else:
            lat = CENTRE[0] + rng.uniform(-HALF_BOX_DEG, HALF_BOX_DEG)
            lon = CENTRE[1] + rng.uniform(-HALF_BOX_DEG, HALF_BOX_DEG)
        category = rng.choices(CATEGORIES, weights=(60, 20, 10, 10))[0]
        fleet.append((DriverPosition(uuid.uuid4(), lat, lon, category, now), rng.random() < 0.85))
    return fleet


async def _prepare(server: str, fleet: list[tuple[DriverPosition, bool]]) -> str:
    url = await fresh_database(server, DB_NAME)
    conn = await asyncpg.connect(url)
    try:
        users = [uuid.uuid4() for _ in fleet]
        await conn.copy_records_to_table(
            "users",
            records=[(u, f"fleet-{n}@bench.example", "x", "Fleet", "driver") for n, u in enumerate(users)],
            columns=["id", "email", "password_hash", "name", "role"],
        )
        await conn.copy_records_to_table(
            "drivers",
            records=[
                (
                    p.driver_id,
                    u,
                    "Fleet",
                    f"{n:011d}",
                    f"{n:011d}",
                    "fleet@bench.example",
                    "EMAIL",
                    "APPROVED",
                    True,
                )
                for n, ((p, _), u) in enumerate(zip(fleet, users))
            ],
            columns=DRIVER_COLUMNS,
        )
        await conn.copy_records_to_table(
            "driver_locations",
            records=[
                (
                    p.driver_id,
                    p.category,
                    matching.h3_int(cell_of(p.lat, p.lon)),
                    p.lat,
                    p.lon,
                    p.recorded_at,
                    ok,
                )
                for p, ok in fleet
            ],
            columns=["driver_id", "category", "h3_cell", "lat", "lon", "recorded_at", "available"],
        )
        await conn.execute("ANALYZE driver_locations")
    finally:
        await conn.close()
    return url


def _percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
    }


async def _timed(calls) -> tuple[list, list[float], float]:  # type: ignore[no-untyped-def]
    answers, latencies = [], []
    started = time.perf_counter()
    for call in calls:
        t = time.perf_counter()
        answers.append(await call())
        latencies.append(time.perf_counter() - t)
    return answers, latencies, time.perf_counter() - started


async def _redis_side(url: str, fleet, pickups, policy, limit, now):  # type: ignore[no-untyped-def]
    try:
        from redis.asyncio import Redis

        from laura.mobility.matching.geo_index import RedisGeoIndex
        from laura.mobility.matching.repository import StoredPosition
    except ImportError:
        return None, None
    redis = Redis.from_url(url)
    try:
        await redis.ping()
    except Exception:  # noqa: BLE001 - no Redis: the section is left out
        await redis.aclose()
        return None, None
    geo = RedisGeoIndex(redis, "bench-matching")
    try:
        await geo.clear(CATEGORIES)
        await geo.put_many(
            StoredPosition(p.driver_id, p.category, p.lat, p.lon, p.recorded_at, True, 1)
            for p, ok in fleet
            if ok
        )
        calls = [
            (
                lambda p=p: geo.nearest(
                    p,
                    limit=limit,
                    radius_m=policy.radius_m,
                    category="standard",
                    now=now,
                    max_age_s=policy.max_age_s,
                    avg_speed_kmh=policy.avg_speed_kmh,
                )
            )
            for p in pickups
        ]
        answers, latencies, elapsed = await _timed(calls)
        return answers, {**_percentiles(latencies), "qps": round(len(calls) / elapsed, 1)}
    finally:
        await geo.clear(CATEGORIES)
        await redis.aclose()


async def run(args: argparse.Namespace) -> dict:
    server = server_url()
    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(microsecond=0)
    fleet = _fleet(args.drivers, rng, now)
    url = await _prepare(server, fleet)
    policy = MatchingPolicy()
    pickups = [
        (
            CENTRE[0] + rng.uniform(-HALF_BOX_DEG, HALF_BOX_DEG) * 0.6,
            CENTRE[1] + rng.uniform(-HALF_BOX_DEG, HALF_BOX_DEG) * 0.6,
        )
        for _ in range(args.queries)
    ]
    db = Database(url, pool_size=2, max_overflow=0)
    try:
        async with db.sessionmaker() as session:
            warm = [
                (
                    lambda p=p: matching.nearest_in_database(
                        session, p, category="standard", limit=args.limit, policy=policy, now=now
                    )
                )
                for p in pickups[:100]
            ]
            await _timed(warm)
            ring_calls = [
                (
                    lambda p=p: matching.nearest_in_database(
                        session, p, category="standard", limit=args.limit, policy=policy, now=now
                    )
                )
                for p in pickups
            ]
            ring_answers, ring_latencies, ring_elapsed = await _timed(ring_calls)
            oldest = now - timedelta(seconds=policy.max_age_s)
            sample = pickups[: args.brute_queries]

            async def brute_sql(p: tuple[float, float]) -> list[Match]:
                rows = await session.execute(
                    _BRUTE_SQL,
                    {
                        "lat": p[0],
                        "lon": p[1],
                        "category": "standard",
                        "oldest": oldest,
                        "radius": policy.radius_m,
                        "limit": args.limit,
                    },
                )
                return [DriverPosition(r.driver_id, r.lat, r.lon, r.category, r.recorded_at) for r in rows]

            sql_answers, sql_latencies, sql_elapsed = await _timed(
                [(lambda p=p: brute_sql(p)) for p in sample]
            )
    finally:
        await db.dispose()

    candidates = [p for p, ok in fleet if ok]
    python_latencies, python_answers = [], []
    for p in sample[: max(10, args.brute_queries // 5)]:
        t = time.perf_counter()
        python_answers.append(
            nearest_drivers(
                p,
                candidates,
                limit=args.limit,
                radius_m=policy.radius_m,
                category="standard",
                now=now,
                max_age_s=policy.max_age_s,
            )
        )
        python_latencies.append(time.perf_counter() - t)

    mismatches = 0
    for i, p in enumerate(sample):
        expected = nearest_drivers(
            p,
            candidates,
            limit=args.limit,
            radius_m=policy.radius_m,
            category="standard",
            now=now,
            max_age_s=policy.max_age_s,
        )
        if ring_answers[i] != expected or [m.driver_id for m in expected] != [
            d.driver_id for d in sql_answers[i]
        ]:
            mismatches += 1

    redis_url = os.environ.get("LAURA_REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_answers, redis_figures = await _redis_side(redis_url, fleet, pickups, policy, args.limit, now)
    if redis_answers is not None:
        mismatches += sum(a != b for a, b in zip(redis_answers, ring_answers))

    ring = {**_percentiles(ring_latencies), "qps": round(len(ring_calls) / ring_elapsed, 1)}
    sql = {**_percentiles(sql_latencies), "qps": round(len(sample) / sql_elapsed, 1)}
    return {
        "benchmark": "matching",
        "drivers": args.drivers,
        "available_standard": sum(1 for p, ok in fleet if ok and p.category == "standard"),
        "queries": args.queries,
        "limit": args.limit,
        "radius_m": policy.radius_m,
        "found_per_query": round(statistics.mean(len(a) for a in ring_answers), 2),
        "ring_search_postgres": ring,
        "redis_geo": redis_figures,
        "brute_force_sql": sql,
        "brute_force_python": _percentiles(python_latencies),
        "speedup_p50_vs_sql": round(sql["p50_ms"] / ring["p50_ms"], 1),
        "mismatches": mismatches,
        "target_p99_ms": 5,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drivers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--brute-queries", type=int, default=100)
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
