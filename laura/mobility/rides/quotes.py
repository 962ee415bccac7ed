"""A trip's quote: distance, duration, fare at the current surge, and the nearest driver's ETA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.mobility.fraud import service as fraud
from laura.mobility.matching import service as matching
from laura.mobility.matching.geo_index import RedisGeoIndex
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.pricing import estimate_fare, route_estimate, surge_multiplier
from laura.mobility.rides.repository import RideRepository


@dataclass(frozen=True)
class Quote:
    """What a trip costs now: the route's distance and duration, the surge and the fare at it."""

    distance_m: int
    duration_s: int
    surge: Decimal
    fare: Decimal
    available_drivers: int


@dataclass(frozen=True)
class Estimate:
    category: str
    distance_m: int
    duration_s: int
    fare: Decimal
    surge: Decimal
    available_drivers: int
    pickup_eta_s: int | None


async def _surge(
    session: AsyncSession,
    policy: RidePolicy,
    pickup: tuple[float, float],
    category: str,
    now: datetime,
    *,
    demand: int,
) -> tuple[Decimal, int]:
    """The multiplier from waiting requests (plus `demand` new ones) against available drivers nearby."""
    cells = matching.area_cells(pickup[0], pickup[1], policy.surge_radius_m)
    waiting = await RideRepository(session).waiting_requests(cells, category=category)
    supply = await matching.count_available(
        session, cells, category=category, policy=policy.matching, now=now
    )
    return surge_multiplier(waiting + demand, supply, policy.surge_cap), supply


async def estimate(
    session: AsyncSession,
    geo: RedisGeoIndex | None,
    policy: RidePolicy,
    *,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
    category: str,
    now: datetime,
) -> Estimate:
    """Distance, duration, fare with surge and the nearest driver's ETA for a trip; creates nothing."""
    priced = await quote(session, policy, pickup=pickup, dropoff=dropoff, category=category, now=now)
    nearest = await matching.nearest_available(
        session, geo, pickup, category=category, limit=1, policy=policy.matching, now=now
    )
    return Estimate(
        category=category,
        distance_m=priced.distance_m,
        duration_s=priced.duration_s,
        fare=priced.fare,
        surge=priced.surge,
        available_drivers=priced.available_drivers,
        pickup_eta_s=nearest[0].eta_s if nearest else None,
    )


async def quote(
    session: AsyncSession,
    policy: RidePolicy,
    *,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
    category: str,
    now: datetime,
) -> Quote:
    """The trip's route, surge and fare, without looking for a driver: what a request stores before its
    dispatch searches (once) for the drivers to offer it to. Both ends must be in the service area (422)."""
    fraud.ensure_in_service_area(policy.fraud, pickup, dropoff)
    route = route_estimate(pickup, dropoff, policy.matching.avg_speed_kmh)
    surge, supply = await _surge(session, policy, pickup, category, now, demand=1)
    return Quote(
        distance_m=route.distance_m,
        duration_s=route.duration_s,
        surge=surge,
        fare=estimate_fare(route.distance_m, route.duration_s, category, surge),
        available_drivers=supply,
    )
