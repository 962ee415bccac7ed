"""Each anti-fraud rule's decision as a pure function of the facts and the policy: the service gathers the
facts (positions, counts, a ride's figures) and acts on the verdict (refuse, flag, suspend, hold), and
bench/fraud.py runs these very functions over a simulated day to measure detection and false positives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from laura.mobility.fraud import geofence
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.matching.geo import haversine_m


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    at: datetime


@dataclass(frozen=True)
class Movement:
    """A move from the last stored position to a reported one."""

    distance_m: float
    seconds: float

    @property
    def kmh(self) -> float:
        return self.distance_m / self.seconds * 3.6 if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class PairRide:
    """A completed ride of one passenger with one driver, as collusion counts it: its length is the shorter
    of the estimate and the distance driven (a short trip asked for stays short however the trail's GPS
    jitter or a detour lengthened it)."""

    completed_at: datetime
    distance_m: int

    @classmethod
    def of(cls, completed_at: datetime, estimated_m: int, final_m: int | None) -> PairRide:
        return cls(completed_at, min(estimated_m, final_m if final_m is not None else estimated_m))


def outside_service_area(
    policy: FraudPolicy, pickup: tuple[float, float], dropoff: tuple[float, float]
) -> list[str]:
    """Which ends ("pickup", "dropoff") lie outside the service area; none when no area is configured."""
    if policy.service_area is None:
        return []
    area = policy.service_area
    return [
        name
        for name, (lat, lon) in (("pickup", pickup), ("dropoff", dropoff))
        if not geofence.contains(area, lat, lon)
    ]


def impossible_movement(policy: FraudPolicy, last: Position | None, new: Position) -> Movement | None:
    """The move when it implies more than the speed limit; None for a first report or a short move (GPS
    jitter is not judged). A report older than the last one is judged on the time between them."""
    if last is None:
        return None
    move = Movement(
        haversine_m(last.lat, last.lon, new.lat, new.lon), abs((new.at - last.at).total_seconds())
    )
    if move.distance_m < policy.min_judged_distance_m or move.kmh <= policy.max_speed_kmh:
        return None
    return move


def movement_counts(policy: FraudPolicy, move: Movement) -> bool:
    """Whether a refused move counts towards the flag: a jump longer than GPS outliers reach (a spoofed
    position teleports by kilometres; a glitch in a street canyon is a few hundred metres, then back)."""
    return move.distance_m >= policy.min_flagged_jump_m


def movement_flags(policy: FraudPolicy, refusals_24h: int) -> bool:
    """The Nth counted refusal in 24 hours flags the driver."""
    return refusals_24h >= policy.impossible_movements_to_flag


def cancellation_flags(policy: FraudPolicy, cancellations_24h: int) -> bool:
    return cancellations_24h > policy.cancellations_to_flag


def cancellation_suspends(policy: FraudPolicy, cancellations_counted: int) -> bool:
    """Past the second threshold (counted since an admin's clearance, if one came in the window)."""
    return cancellations_counted > policy.cancellations_to_suspend


def over_max_fare(policy: FraudPolicy, fare: Decimal) -> bool:
    return fare > policy.max_fare


def long_route(policy: FraudPolicy, final_m: int, estimated_m: int, *, billed_on_trail: bool) -> bool:
    """Driven over the ratio times the estimate and by at least the minimum extra (a short ride's trail
    gathers GPS jitter that is no detour). A ride billed on its estimate (trail too sparse) never is."""
    return (
        billed_on_trail
        and final_m > policy.long_route_ratio * estimated_m
        and final_m - estimated_m >= policy.long_route_min_extra_m
    )


def is_short(policy: FraudPolicy, ride: PairRide) -> bool:
    return ride.distance_m < policy.collusion_max_km * 1000


def collusion(
    policy: FraudPolicy, now: datetime, ride: PairRide, pair_rides: Iterable[PairRide]
) -> int | None:
    """When the ride completing now is short, the pair's short rides in the window (`pair_rides` includes
    this one) if they reach the threshold; else None."""
    if not is_short(policy, ride):
        return None
    since = now - timedelta(hours=policy.collusion_window_hours)
    short = sum(1 for r in pair_rides if r.completed_at > since and is_short(policy, r))
    return short if short >= policy.collusion_rides else None
