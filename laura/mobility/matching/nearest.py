"""Ranking drivers for a pickup: a pure brute-force ranking and the ring-by-ring search built on it.

The database-backed search indexes each driver's current position under `geo.cell_of` and hands
`search_by_rings` a function that loads the drivers of a list of cells; the answer is then exactly
what `nearest_drivers` would give over every driver, while reading only the nearby cells.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from laura.mobility.matching.geo import (
    DETOUR_FACTOR,
    MATCHING_RESOLUTION,
    cells_within,
    covered_radius_m,
    eta_seconds,
    haversine_m,
)

# Average urban driving speed used for pickup ETAs (São Paulo's car traffic averages ~20-25 km/h).
DEFAULT_CITY_SPEED_KMH = 25.0


@dataclass(frozen=True, slots=True)
class DriverPosition:
    """A driver's last known position, one per driver, with the category of the vehicle in use."""

    driver_id: UUID
    lat: float
    lon: float
    category: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Match:
    """A driver eligible for the pickup, with the straight-line distance and the road ETA to it."""

    driver_id: UUID
    lat: float
    lon: float
    category: str
    recorded_at: datetime
    distance_m: float
    eta_s: int


def _qualifying(
    pickup: tuple[float, float],
    candidates: Iterable[DriverPosition],
    *,
    radius_m: float,
    category: str | None,
    now: datetime,
    max_age_s: float,
    avg_speed_kmh: float,
) -> list[Match]:
    oldest = now - timedelta(seconds=max_age_s)
    found = []
    for pos in candidates:
        if (category is not None and pos.category != category) or pos.recorded_at < oldest:
            continue
        distance = haversine_m(pickup[0], pickup[1], pos.lat, pos.lon)
        if distance <= radius_m:
            eta = eta_seconds(distance * DETOUR_FACTOR, avg_speed_kmh)
            found.append(Match(pos.driver_id, pos.lat, pos.lon, pos.category, pos.recorded_at, distance, eta))
    return found


def _best(matches: list[Match], limit: int) -> list[Match]:
    return sorted(matches, key=lambda m: (m.distance_m, m.driver_id))[:limit]


def nearest_drivers(
    pickup: tuple[float, float],
    candidates: Iterable[DriverPosition],
    *,
    limit: int = 5,
    radius_m: float = 5000,
    category: str | None = None,
    now: datetime,
    max_age_s: float = 60,
    avg_speed_kmh: float = DEFAULT_CITY_SPEED_KMH,
) -> list[Match]:
    """The `limit` closest drivers of `category` (any when None) within `radius_m` whose position is
    at most `max_age_s` old, by straight-line distance, ties by driver id so a retry offers the same.

    A stale position is a driver who may have gone offline or moved: never offer them a ride.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    matches = _qualifying(
        pickup,
        candidates,
        radius_m=radius_m,
        category=category,
        now=now,
        max_age_s=max_age_s,
        avg_speed_kmh=avg_speed_kmh,
    )
    return _best(matches, limit)


def search_by_rings(
    pickup: tuple[float, float],
    fetch_cells: Callable[[list[str]], Iterable[DriverPosition]],
    *,
    limit: int = 5,
    radius_m: float = 5000,
    category: str | None = None,
    now: datetime,
    max_age_s: float = 60,
    avg_speed_kmh: float = DEFAULT_CITY_SPEED_KMH,
    res: int = MATCHING_RESOLUTION,
) -> list[Match]:
    """`nearest_drivers` over every driver, reading only the H3 rings around the pickup it needs.

    Widens one ring at a time and stops once it holds `limit` matches and the limit-th is closer
    than the radius the fetched disk is guaranteed to cover: every unread driver is then strictly
    farther, so it could neither enter the result nor tie with it. The rings before the first one
    that can satisfy that test are fetched in one call. `fetch_cells` must return the drivers whose
    position is indexed (with `geo.cell_of` at `res`) under one of the given cells.
    """
    steps = _ring_steps(
        pickup,
        limit=limit,
        radius_m=radius_m,
        category=category,
        now=now,
        max_age_s=max_age_s,
        avg_speed_kmh=avg_speed_kmh,
        res=res,
    )
    try:
        cells = next(steps)
        while True:
            cells = steps.send(fetch_cells(cells))
    except StopIteration as done:
        return done.value


async def search_by_rings_async(
    pickup: tuple[float, float],
    fetch_cells: Callable[[list[str]], Awaitable[Iterable[DriverPosition]]],
    **options: Any,
) -> list[Match]:
    """`search_by_rings` for a `fetch_cells` that is a coroutine (a database query); same options."""
    steps = _ring_steps(pickup, **options)
    try:
        cells = next(steps)
        while True:
            cells = steps.send(await fetch_cells(cells))
    except StopIteration as done:
        return done.value


def _ring_steps(
    pickup: tuple[float, float],
    *,
    limit: int = 5,
    radius_m: float = 5000,
    category: str | None = None,
    now: datetime,
    max_age_s: float = 60,
    avg_speed_kmh: float = DEFAULT_CITY_SPEED_KMH,
    res: int = MATCHING_RESOLUTION,
) -> Generator[list[str], Iterable[DriverPosition], list[Match]]:
    """The ring search as a generator: yields cells to read, is sent their drivers, returns the result.

    Shared by the sync and async drivers so both stop by the same bound.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rings = cells_within(pickup[0], pickup[1], radius_m, res)
    first = next((k for k in range(len(rings)) if covered_radius_m(k, res) > 0), len(rings) - 1)
    batches = [(first, [cell for ring in rings[: first + 1] for cell in ring])]
    batches += [(k, rings[k]) for k in range(first + 1, len(rings))]
    found: list[Match] = []
    best: list[Match] = []
    for k, cells in batches:
        drivers = yield cells
        found += _qualifying(
            pickup,
            drivers,
            radius_m=radius_m,
            category=category,
            now=now,
            max_age_s=max_age_s,
            avg_speed_kmh=avg_speed_kmh,
        )
        best = _best(found, limit)
        if len(best) == limit and best[-1].distance_m < covered_radius_m(k, res):
            break
    return best
