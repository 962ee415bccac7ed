import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laura.mobility.matching.geo import DETOUR_FACTOR, cell_of, cells_within, eta_seconds, haversine_m
from laura.mobility.matching.nearest import DriverPosition, Match, nearest_drivers, search_by_rings

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SE = (-23.5503, -46.6340)  # Praça da Sé, São Paulo


def driver(n, lat, lon, category="standard", age_s=5):
    return DriverPosition(UUID(int=n), lat, lon, category, NOW - timedelta(seconds=age_s))


class CellIndex:
    """What the database index does: drivers grouped by the H3 cell of their position."""

    def __init__(self, drivers, res=8):
        self.cells = defaultdict(list)
        for d in drivers:
            self.cells[cell_of(d.lat, d.lon, res)].append(d)
        self.calls: list[list[str]] = []

    def fetch(self, cells):
        self.calls.append(cells)
        return [d for cell in cells for d in self.cells.get(cell, ())]


def test_ranks_by_distance_and_reports_eta():
    near, far = driver(2, -23.5510, -46.6340), driver(1, -23.5600, -46.6340)
    matches = nearest_drivers(SE, [far, near], now=NOW)
    assert [m.driver_id for m in matches] == [near.driver_id, far.driver_id]
    first = matches[0]
    assert isinstance(first, Match)
    assert first.distance_m == pytest.approx(haversine_m(*SE, near.lat, near.lon))
    assert first.eta_s == eta_seconds(first.distance_m * DETOUR_FACTOR, 25)
    assert (first.lat, first.lon, first.category, first.recorded_at) == (
        near.lat,
        near.lon,
        "standard",
        near.recorded_at,
    )


def test_filters_category_staleness_and_radius():
    drivers = [
        driver(1, -23.5510, -46.6340, category="premium"),
        driver(2, -23.5511, -46.6340, age_s=61),
        driver(3, -23.5512, -46.6340, age_s=60),
        driver(4, -23.6503, -46.6340),  # ~11 km south
        driver(5, -23.5513, -46.6340, age_s=-3),  # phone clock slightly ahead
    ]
    assert [m.driver_id.int for m in nearest_drivers(SE, drivers, now=NOW)] == [1, 3, 5]
    assert [m.driver_id.int for m in nearest_drivers(SE, drivers, now=NOW, category="standard")] == [3, 5]
    assert [m.driver_id.int for m in nearest_drivers(SE, drivers, now=NOW, radius_m=20_000)] == [1, 3, 5, 4]
    assert [m.driver_id.int for m in nearest_drivers(SE, drivers, now=NOW, max_age_s=120, limit=2)] == [1, 2]


def test_ties_are_broken_by_driver_id():
    same_spot = [driver(n, -23.552, -46.634) for n in (7, 3, 9, 1)]
    assert [m.driver_id.int for m in nearest_drivers(SE, same_spot, now=NOW, limit=3)] == [1, 3, 7]


def test_limit_must_be_positive():
    with pytest.raises(ValueError):
        nearest_drivers(SE, [], now=NOW, limit=0)
    with pytest.raises(ValueError):
        search_by_rings(SE, lambda cells: [], now=NOW, limit=0)


def test_search_stops_early_in_a_dense_area_and_reads_every_ring_when_empty():
    crowd = [driver(n, SE[0] + n * 1e-5, SE[1]) for n in range(1, 30)]
    index = CellIndex(crowd)
    assert search_by_rings(SE, index.fetch, now=NOW) == nearest_drivers(SE, crowd, now=NOW)
    assert len(index.calls) == 1 and len(index.calls[0]) == 19  # rings 0-2 in one round trip

    empty = CellIndex([])
    assert search_by_rings(SE, empty.fetch, now=NOW) == []
    assert sum(len(cells) for cells in empty.calls) == 1 + 3 * 11 * 12


def _drivers_around(rng, pickup, count, spread_m):
    categories = ["standard", "comfort", "premium", "xl"]
    drivers = []
    for n in range(count):
        dlat = rng.uniform(-1, 1) * spread_m / 111_000
        dlon = rng.uniform(-1, 1) * spread_m / 102_000
        drivers.append(
            driver(n + 1, pickup[0] + dlat, pickup[1] + dlon, rng.choice(categories), rng.uniform(0, 120))
        )
    return drivers


@settings(max_examples=150, deadline=None)
@given(
    st.tuples(st.floats(-60, 60), st.floats(-179, 179)),
    st.integers(0, 300),
    st.floats(50, 12_000),
    st.integers(1, 12),
    st.floats(100, 8_000),
    st.sampled_from([None, "standard", "premium"]),
    st.sampled_from([7, 8, 9]),
    st.randoms(use_true_random=False),
)
def test_search_by_rings_equals_brute_force(pickup, count, spread, limit, radius, category, res, rng):
    drivers = _drivers_around(rng, pickup, count, spread)
    # a few drivers share a spot, to exercise the tie-break across rings
    drivers += [driver(10_000 + i, d.lat, d.lon, d.category) for i, d in enumerate(drivers[:5])]
    index = CellIndex(drivers, res)
    options = {"limit": limit, "radius_m": radius, "category": category, "now": NOW, "max_age_s": 60}
    expected = nearest_drivers(pickup, drivers, **options)
    assert search_by_rings(pickup, index.fetch, res=res, **options) == expected


def test_ten_thousand_random_drivers():
    rng = random.Random(20260310)
    drivers = _drivers_around(rng, SE, 10_000, 15_000)
    index = CellIndex(drivers)
    stopped_early = 0
    for _ in range(40):
        pickup = (SE[0] + rng.uniform(-0.12, 0.12), SE[1] + rng.uniform(-0.12, 0.12))
        options = {
            "limit": rng.randint(1, 20),
            "radius_m": rng.choice([1000, 3000, 5000, 8000]),
            "category": rng.choice([None, "standard", "xl"]),
            "now": NOW,
        }
        index.calls.clear()
        assert search_by_rings(pickup, index.fetch, **options) == nearest_drivers(pickup, drivers, **options)
        every_cell = sum(len(ring) for ring in cells_within(*pickup, options["radius_m"]))
        stopped_early += sum(len(cells) for cells in index.calls) < every_cell
    assert stopped_early >= 30  # ~11 drivers/km²: most searches need only the first rings
