"""Distances, ETAs and the H3 cells a driver search walks through.

Floats are fine here: this is geometry. Money never passes through this module.

Why H3 resolution 8: its hexagons average 531 m of edge (0.74 km²), so the first rings around a
pickup hold the few hundred metres where a dense city's nearest drivers usually are, and a search
stops after fetching about 14 km² instead of the ~100 km² that resolution 7 always needs before its
bound lets it stop. The price is more rings for a wide search: 11 rings (397 cells) for the default
5 km radius at resolution 8, against 5 rings (91 cells) at resolution 7. `search_by_rings` fetches
rings 0-2 (19 cells) in one call, so a dense-city search is one round trip and an empty 5 km one 10.

The ring bound (`covered_radius_m`, `rings_for_radius`). Let e be the resolution's average edge,
r the largest circumradius of any cell (centre-to-farthest-point), s the smallest distance between
the centres of two cells per step of grid distance (|c0 - cj| >= s * j for cells j rings apart).
A point q outside the k-disk of the pickup p's cell lies in a cell at grid distance j >= k + 1, so
by the triangle inequality |p - q| >= |c0 - cj| - |p - c0| - |q - cj| >= s * (k + 1) - 2 * r.
That is the radius the k-disk is guaranteed to cover, and the rings a radius R needs are the
smallest k with s * (k + 1) - 2 * r > R. For a regular hexagon grid r = e and s = 1.5 * e; H3 cells
are distorted by the icosahedron projection, so r and s are measured over the whole grid (random
cells worldwide plus the neighbourhoods of all 12 pentagons, rings 1-12, resolutions 7-9):
r <= 1.102 e and s >= 1.050 e (the pentagons' neighbourhoods being the worst). The constants below
keep a margin over both. tests/mobility/matching/test_geo.py checks the bound by brute force, against
the sampled outline of the first ring outside the disk, anywhere on Earth and next to the pentagons.
The bound is about one ring looser than the worst case H3 actually has; that ring buys a proof.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import h3

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
MATCHING_RESOLUTION = 8
# Road distance over straight-line distance (the "circuity factor" or detour index): published values
# for road networks are 1.2-1.4 (e.g. Ballou, Rahardja & Sakai 2002); 1.3 is the middle of that range.
DETOUR_FACTOR = 1.3
CIRCUMRADIUS_FACTOR = 1.15  # r / e, measured <= 1.102
RING_STEP_FACTOR = 1.0  # s / e, measured >= 1.050


@dataclass(frozen=True, slots=True)
class TrailPoint:
    """One location update of the driver during the ride."""

    lat: float
    lon: float
    recorded_at: datetime


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres; accurate to ~0.5% (the Earth is not a sphere), ample for dispatch."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def eta_seconds(distance_m: float, avg_speed_kmh: float) -> int:
    """Whole seconds to cover `distance_m` at `avg_speed_kmh`, rounded up so an ETA is never optimistic."""
    if avg_speed_kmh <= 0:
        raise ValueError("avg_speed_kmh must be positive")
    return math.ceil(distance_m / (avg_speed_kmh / 3.6))


def cell_of(lat: float, lon: float, res: int = MATCHING_RESOLUTION) -> str:
    """The H3 cell a position is indexed under, so drivers and pickups meet in the same cells."""
    return h3.latlng_to_cell(lat, lon, res)


def covered_radius_m(rings: int, res: int = MATCHING_RESOLUTION) -> float:
    """A distance below which every point is inside the `rings`-disk around the pickup's cell.

    Anything outside the disk is strictly farther than this (see the module docstring); negative
    when the disk guarantees nothing, since the pickup may sit on its cell's edge.
    """
    edge = h3.average_hexagon_edge_length(res, "m")
    return RING_STEP_FACTOR * edge * (rings + 1) - 2 * CIRCUMRADIUS_FACTOR * edge


def rings_for_radius(radius_m: float, res: int = MATCHING_RESOLUTION) -> int:
    """The fewest rings whose disk holds every point within `radius_m` of any pickup in the centre cell."""
    edge = h3.average_hexagon_edge_length(res, "m")
    return math.floor((radius_m + 2 * CIRCUMRADIUS_FACTOR * edge) / (RING_STEP_FACTOR * edge))


def cells_within(lat: float, lon: float, radius_m: float, res: int = MATCHING_RESOLUTION) -> list[list[str]]:
    """The cells that can hold a point within `radius_m` of (lat, lon), ring by ring from the centre.

    Grouped so a search can fetch the nearest rings first and widen only when it must.
    """
    origin = cell_of(lat, lon, res)
    return [[origin]] + [h3.grid_ring(origin, k) for k in range(1, rings_for_radius(radius_m, res) + 1)]
