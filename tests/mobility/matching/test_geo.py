import math

import h3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laura.mobility.matching.geo import (
    EARTH_RADIUS_M,
    MATCHING_RESOLUTION,
    cell_of,
    cells_within,
    covered_radius_m,
    eta_seconds,
    haversine_m,
    rings_for_radius,
)


def destination(lat, lon, bearing_deg, distance_m):
    """The point `distance_m` away along `bearing_deg` on the same sphere as haversine_m."""
    phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


def test_haversine_known_distances():
    assert haversine_m(0, 0, 0, 0) == 0
    # one degree of latitude on the mean sphere
    assert haversine_m(0, 0, 1, 0) == pytest.approx(2 * math.pi * EARTH_RADIUS_M / 360)
    # Praça da Sé (São Paulo) to Cinelândia (Rio): ~361 km as the crow flies
    assert haversine_m(-23.5503, -46.6340, -22.9110, -43.1757) == pytest.approx(361_000, rel=0.01)
    assert haversine_m(10, 179.9, 10, -179.9) == pytest.approx(haversine_m(10, 0, 10, 0.2))
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)


@given(
    st.floats(-89, 89), st.floats(-180, 180), st.floats(0, 360), st.floats(0, 50_000, allow_subnormal=False)
)
def test_haversine_inverts_destination(lat, lon, bearing, distance):
    lat2, lon2 = destination(lat, lon, bearing, distance)
    assert haversine_m(lat, lon, lat2, lon2) == pytest.approx(distance, abs=1e-3)


def test_eta_seconds_rounds_up_and_rejects_a_standstill():
    assert eta_seconds(1000, 36) == 100
    assert eta_seconds(1001, 36) == 101
    assert eta_seconds(0, 30) == 0
    with pytest.raises(ValueError):
        eta_seconds(100, 0)


def test_resolution_and_ring_counts_stay_small():
    assert h3.get_resolution(cell_of(-23.55, -46.63)) == MATCHING_RESOLUTION == 8
    assert rings_for_radius(5000) == 11
    rings = cells_within(-23.55, -46.63, 5000)
    assert len(rings) == 12
    assert rings[0] == [cell_of(-23.55, -46.63)]
    assert sum(len(r) for r in rings) == 1 + 3 * 11 * 12
    assert set().union(*map(set, rings)) == set(h3.grid_disk(rings[0][0], 11))


def test_covered_radius_is_the_bound_rings_for_radius_inverts():
    for res in (7, 8, 9):
        for radius in (0, 1, 250, 999.5, 5000, 12_345):
            k = rings_for_radius(radius, res)
            assert covered_radius_m(k, res) > radius >= covered_radius_m(k - 1, res)


PENTAGONS = [h3.cell_to_latlng(cell) for cell in h3.get_pentagons(0)]  # the same 12 spots at every resolution
near_pentagons = st.builds(
    lambda centre, bearing, distance: destination(*centre, bearing, distance),
    st.sampled_from(PENTAGONS),
    st.floats(0, 360),
    st.floats(0, 30_000),
)
# Anywhere on Earth, and often where H3's cells are the most distorted.
pickups = st.one_of(st.tuples(st.floats(-85, 85), st.floats(-180, 180)), near_pentagons)


@settings(max_examples=400, deadline=None)
@given(pickups, st.floats(0, 360), st.floats(0, 1), st.floats(0, 8_000), st.sampled_from([7, 8, 9]))
def test_every_point_within_the_radius_is_in_the_disk(pickup, bearing, fraction, radius, res):
    """Brute force over the claim: a random point within `radius_m` falls inside the computed rings."""
    target = destination(*pickup, bearing, fraction * radius)
    if haversine_m(*pickup, *target) > radius:  # floating error at fraction == 1
        return
    disk = {cell for ring in cells_within(*pickup, radius, res) for cell in ring}
    assert cell_of(*target, res) in disk


def boundary_points(cell, per_edge=16):
    """Points along a cell's outline, densely enough to find its distance from a nearby point."""
    outline = h3.cell_to_boundary(cell)
    for (lat1, lon1), (lat2, lon2) in zip(outline, outline[1:] + outline[:1]):
        lon2 = lon1 + (lon2 - lon1 + 540) % 360 - 180  # across the antimeridian, the short way
        for i in range(per_edge):
            t = i / per_edge
            yield lat1 + (lat2 - lat1) * t, lon1 + (lon2 - lon1) * t


@settings(max_examples=80, deadline=None)
@given(pickups, st.integers(0, 8), st.sampled_from([7, 8, 9]))
def test_nothing_outside_the_disk_is_closer_than_the_covered_radius(pickup, rings, res):
    """Brute force on the outline of the first ring outside the disk: any point beyond the disk is
    reached by crossing it, so its nearest outline point bounds the distance to everything outside."""
    outside = h3.grid_ring(cell_of(*pickup, res), rings + 1)
    nearest_outside = min(haversine_m(*pickup, *point) for cell in outside for point in boundary_points(cell))
    assert covered_radius_m(rings, res) < nearest_outside


@pytest.mark.parametrize("res", [7, 8])
def test_bound_holds_next_to_the_pentagons(res):
    """The pentagons' neighbourhoods are where H3 cells are most distorted."""
    for pentagon in h3.get_pentagons(res):
        lat, lon = h3.cell_to_latlng(pentagon)
        for offset_bearing in range(0, 360, 45):
            pickup = destination(lat, lon, offset_bearing, h3.average_hexagon_edge_length(res, "m") * 1.5)
            for radius in (800.0, 5000.0):
                disk = {cell for ring in cells_within(*pickup, radius, res) for cell in ring}
                for bearing in range(0, 360, 10):
                    assert cell_of(*destination(*pickup, bearing, radius), res) in disk
