from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laura.mobility.categories import VehicleCategory
from laura.mobility.matching.geo import TrailPoint, haversine_m
from laura.mobility.rides.pricing import (
    DEFAULT_FARES,
    FareTable,
    estimate_fare,
    route_estimate,
    surge_multiplier,
    trail_distance_m,
)

D = Decimal


def test_every_category_has_a_fare_and_better_cars_cost_more():
    assert set(DEFAULT_FARES) == set(VehicleCategory)
    fares = [estimate_fare(8000, 1200, category) for category in ("standard", "comfort", "xl", "premium")]
    assert fares == sorted(fares) and len(set(fares)) == 4


def test_standard_fare_adds_base_distance_and_time():
    # 5.00 + 10 km * 1.80 + 20 min * 0.35
    assert estimate_fare(10_000, 1200, VehicleCategory.STANDARD) == D("30.00")


def test_short_rides_pay_the_minimum_and_surge_multiplies_it():
    assert estimate_fare(1000, 120, "standard") == D("8.00")
    assert estimate_fare(1000, 120, "standard", D("1.5")) == D("12.00")
    assert estimate_fare(10_000, 1200, "standard", D("1.5")) == D("45.00")


def test_rounds_half_up_to_cents():
    per_km_only = {"standard": FareTable(D("0"), D("1.00"), D("0"), D("0"))}
    assert estimate_fare(5, 0, "standard", table=per_km_only) == D("0.01")  # 0.005
    assert estimate_fare(4, 0, "standard", table=per_km_only) == D("0.00")
    assert estimate_fare(15, 0, "standard", table=per_km_only) == D("0.02")  # 0.015: both modes agree
    assert estimate_fare(25, 0, "standard", table=per_km_only) == D("0.03")  # 0.025, half-even would say 0.02


def test_fare_uses_whole_metres_and_seconds():
    assert estimate_fare(10_000.4, 1199.6, "standard") == estimate_fare(10_000, 1200, "standard")


@given(st.integers(0, 200_000), st.integers(0, 4 * 3600), st.sampled_from(list(VehicleCategory)))
def test_fares_are_cents_at_least_the_minimum_and_never_shrink_with_distance(distance, duration, category):
    fare = estimate_fare(distance, duration, category)
    assert fare == fare.quantize(D("0.01")) and fare >= DEFAULT_FARES[category].minimum
    assert estimate_fare(distance + 100, duration, category) >= fare


def test_fare_rejects_nonsense():
    with pytest.raises(ValueError):
        estimate_fare(-1, 0, "standard")
    with pytest.raises(ValueError):
        estimate_fare(100, 0, "standard", D("0.9"))
    with pytest.raises(KeyError):
        estimate_fare(100, 0, "helicopter")


@pytest.mark.parametrize(
    ("waiting", "available", "expected"),
    [
        (0, 0, "1.0"),
        (5, 10, "1.0"),
        (10, 10, "1.0"),
        (11, 10, "1.1"),
        (7, 6, "1.1"),  # 1.1666: floored, not rounded
        (9, 6, "1.5"),
        (19, 10, "1.9"),
        (20, 10, "2.0"),
        (50, 10, "2.0"),
        (3, 0, "2.0"),
    ],
)
def test_surge_multiplier(waiting, available, expected):
    result = surge_multiplier(waiting, available)
    assert result == D(expected) and str(result) == expected


def test_surge_cap_and_inputs():
    assert surge_multiplier(30, 10, cap=D("2.5")) == D("2.5")
    assert surge_multiplier(22, 10, cap=D("2.5")) == D("2.2")
    with pytest.raises(ValueError):
        surge_multiplier(-1, 3)


@given(st.integers(0, 1000), st.integers(0, 1000))
def test_surge_is_monotonic_in_demand(waiting, available):
    surge = surge_multiplier(waiting, available)
    assert D("1.0") <= surge <= surge_multiplier(waiting + 1, available) <= D("2.0")


def test_route_estimate_applies_the_detour_factor():
    pickup, dropoff = (-23.5503, -46.6340), (-23.5874, -46.6576)  # Sé to Ibirapuera, ~4.8 km straight
    estimate = route_estimate(pickup, dropoff, avg_speed_kmh=30)
    straight = haversine_m(*pickup, *dropoff)
    assert estimate.distance_m == round(straight * 1.3)
    assert estimate.duration_s == pytest.approx(straight * 1.3 / (30 / 3.6), abs=1)
    assert route_estimate(pickup, pickup, 30).distance_m == 0


T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
METRE_LAT = 1 / 111_195  # degrees of latitude per metre on the mean sphere


def northbound(count, every_s=5, metres_each=50, start=(-23.55, -46.63)):
    """A car driving north at `metres_each / every_s` m/s (36 km/h by default)."""
    return [
        TrailPoint(start[0] + i * metres_each * METRE_LAT, start[1], T0 + timedelta(seconds=i * every_s))
        for i in range(count)
    ]


def test_trail_sums_the_driven_segments():
    assert trail_distance_m(northbound(61)) == pytest.approx(3000, rel=1e-3)


def test_trail_order_does_not_matter():
    points = northbound(61)
    assert trail_distance_m(list(reversed(points))) == trail_distance_m(points)


def test_trail_ignores_gps_jumps():
    points = northbound(61)
    jump = TrailPoint(points[30].lat + 0.05, points[30].lon, points[30].recorded_at + timedelta(seconds=1))
    assert trail_distance_m(points + [jump]) == pytest.approx(trail_distance_m(points))


def test_trail_too_sparse_or_with_holes_is_not_trusted():
    assert trail_distance_m(northbound(4)) is None  # under min_points
    assert trail_distance_m([]) is None
    points = northbound(61)
    holed = points[:10] + points[40:]  # 150 s without a fix out of 300 s
    assert trail_distance_m(holed) is None
    assert trail_distance_m(holed, min_coverage=0.4) == pytest.approx(3000, rel=1e-3)


def test_trail_coverage_counts_the_ride_window():
    points = northbound(61)  # 12:00:00 to 12:05:00
    window = {"started_at": T0 - timedelta(seconds=30), "ended_at": T0 + timedelta(seconds=320)}
    assert trail_distance_m(points, **window) == pytest.approx(3000, rel=1e-3)
    # the trail stops 10 minutes before the ride ended: most of the ride is unseen
    assert trail_distance_m(points, started_at=T0, ended_at=T0 + timedelta(minutes=15)) is None
    # points outside the window are not part of the ride
    assert trail_distance_m(points, started_at=T0, ended_at=T0 + timedelta(seconds=150)) == pytest.approx(
        1500, rel=1e-3
    )
