"""Fares, surge and distances: what a ride is quoted at request time and charged at completion.

Money is Decimal end to end and rounded once, at the end, to cents with ROUND_HALF_UP: that is how
a passenger checks a fare by hand and how Brazilian price displays round; banker's rounding only
pays off when many rounded amounts are summed, which the ledger does in integer cents anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from laura.mobility.categories import VehicleCategory
from laura.mobility.matching.geo import DETOUR_FACTOR, TrailPoint, eta_seconds, haversine_m

CENTS = Decimal("0.01")
NO_SURGE = Decimal("1.0")


@dataclass(frozen=True, slots=True)
class FareTable:
    """One category's tariff in BRL: a flag-fall, a price per km and per minute, and a minimum fare."""

    base: Decimal
    per_km: Decimal
    per_minute: Decimal
    minimum: Decimal


DEFAULT_FARES: Mapping[str, FareTable] = {
    VehicleCategory.STANDARD: FareTable(Decimal("5.00"), Decimal("1.80"), Decimal("0.35"), Decimal("8.00")),
    VehicleCategory.COMFORT: FareTable(Decimal("6.50"), Decimal("2.30"), Decimal("0.45"), Decimal("11.00")),
    VehicleCategory.PREMIUM: FareTable(Decimal("9.00"), Decimal("3.20"), Decimal("0.60"), Decimal("18.00")),
    VehicleCategory.XL: FareTable(Decimal("7.50"), Decimal("2.60"), Decimal("0.50"), Decimal("14.00")),
}


def estimate_fare(
    distance_m: float,
    duration_s: float,
    category: str,
    surge: Decimal = NO_SURGE,
    table: Mapping[str, FareTable] = DEFAULT_FARES,
) -> Decimal:
    """The fare in BRL: max(base + km * per_km + minutes * per_minute, minimum) * surge, in cents.

    Distance and duration are first taken to whole metres and seconds, so the fare depends only on
    the integers a ride row stores and can be recomputed from them. Surge multiplies the minimum
    too, as Uber/99 do: in a surge even the shortest ride costs more.
    """
    if distance_m < 0 or duration_s < 0:
        raise ValueError("distance and duration cannot be negative")
    if surge < NO_SURGE:
        raise ValueError("surge cannot discount a fare")
    tariff = table[category]
    km = Decimal(round(distance_m)) / 1000
    minutes = Decimal(round(duration_s)) / 60
    fare = max(tariff.base + km * tariff.per_km + minutes * tariff.per_minute, tariff.minimum)
    return (fare * surge).quantize(CENTS, rounding=ROUND_HALF_UP)


def surge_multiplier(waiting_requests: int, available_drivers: int, cap: Decimal = Decimal("2.0")) -> Decimal:
    """Demand over supply, floored to 0.1 steps, between 1.0 and `cap`: 9 requests for 6 drivers is 1.5.

    Floored, never rounded up, so a passenger never pays more than the imbalance justifies; no
    drivers at all with someone waiting is the cap.
    """
    if waiting_requests < 0 or available_drivers < 0:
        raise ValueError("counts cannot be negative")
    if waiting_requests <= available_drivers:
        return NO_SURGE
    if available_drivers == 0:
        return cap
    tenths = Decimal(waiting_requests * 10 // available_drivers).scaleb(-1)
    return min(tenths, cap)


@dataclass(frozen=True, slots=True)
class RouteEstimate:
    """The road distance and driving time expected between two points, before any GPS trail exists."""

    distance_m: int
    duration_s: int


def route_estimate(
    pickup: tuple[float, float], dropoff: tuple[float, float], avg_speed_kmh: float
) -> RouteEstimate:
    """Straight-line distance times `DETOUR_FACTOR` (1.3, see geo) and the time to drive it.

    No routing engine is involved: the quote is an estimate and the final fare uses the trail.
    """
    straight = haversine_m(pickup[0], pickup[1], dropoff[0], dropoff[1])
    road = straight * DETOUR_FACTOR
    return RouteEstimate(distance_m=round(road), duration_s=eta_seconds(road, avg_speed_kmh))


def trail_distance_m(
    points: Iterable[TrailPoint],
    *,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    max_speed_kmh: float = 200.0,
    max_gap_s: float = 60.0,
    min_points: int = 5,
    min_coverage: float = 0.8,
) -> float | None:
    """The distance actually driven, summed over the location trail; None when the trail cannot be trusted.

    Points are taken in time order, and those between `started_at` and `ended_at` when given. A point
    implying more than `max_speed_kmh` from the last kept one is a GPS jump and is dropped. Straight
    lines between points under-measure a route that curved while no update came, so the trail must be
    dense: a stretch longer than `max_gap_s` without a point (the ride's start and end included) does
    not count as covered, and fewer than `min_points` kept points or less than `min_coverage` of the
    ride's time covered returns None, telling the caller to bill the estimate instead. If the first
    point itself is a jump, later points are dropped until the gap to it is plausible, which leaves the
    trail uncovered and so also ends in None.
    """
    in_window = sorted(
        (
            p
            for p in points
            if (started_at is None or started_at <= p.recorded_at)
            and (ended_at is None or p.recorded_at <= ended_at)
        ),
        key=lambda p: p.recorded_at,
    )
    if not in_window:
        return None
    last = in_window[0]
    kept, distance, covered = 1, 0.0, 0.0
    for point in in_window[1:]:
        elapsed = (point.recorded_at - last.recorded_at).total_seconds()
        step = haversine_m(last.lat, last.lon, point.lat, point.lon)
        if elapsed <= 0 or step / elapsed * 3.6 > max_speed_kmh:
            continue
        distance += step
        if elapsed <= max_gap_s:
            covered += elapsed
        kept += 1
        last = point
    start = started_at or in_window[0].recorded_at
    end = ended_at or last.recorded_at
    lead = (in_window[0].recorded_at - start).total_seconds()
    tail = (end - last.recorded_at).total_seconds()
    covered += sum(gap for gap in (lead, tail) if gap <= max_gap_s)
    span = (end - start).total_seconds()
    if kept < min_points or span <= 0 or covered / span < min_coverage:
        return None
    return distance
