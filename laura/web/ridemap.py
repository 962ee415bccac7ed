"""The demo city's map for the rider and driver screens: a plain SVG drawn from coordinates (no tile server,
nothing fetched from outside), with a few streets, landmarks and the named places a rider can pick without
JavaScript. The page's script turns a click on the map back into coordinates with the same projection
(`data-*` attributes of the SVG), so the server and the browser agree on where a point is."""

from __future__ import annotations

import math
from dataclasses import dataclass

from laura.web.i18n import N_

NORTH, SOUTH, WEST, EAST = -23.540, -23.600, -46.690, -46.630
WIDTH = 460.0
HEIGHT = 500.0
"""About the shape of the box on the ground at this latitude (cos 23.57° ≈ 0.92)."""


@dataclass(frozen=True)
class Place:
    key: str
    label: str
    lat: float
    lon: float
    label_left: bool = False
    """Write the name to the left of the dot (near the right edge, or where a neighbour's name is)."""


PLACES: tuple[Place, ...] = (
    Place("masp", N_("MASP, Av. Paulista"), -23.5614, -46.6559),
    Place("consolacao", N_("Consolação station"), -23.5577, -46.6609),
    Place("paraiso", N_("Paraíso station"), -23.5753, -46.6407, label_left=True),
    Place("ibirapuera", N_("Ibirapuera Park"), -23.5874, -46.6576),
    Place("se", N_("Praça da Sé"), -23.5503, -46.6339, label_left=True),
    Place("clinicas", N_("Hospital das Clínicas"), -23.5573, -46.6693, label_left=True),
)
_BY_KEY = {place.key: place for place in PLACES}

STREETS: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = (
    (
        "Av. Paulista",
        ((-23.5547, -46.6625), (-23.5577, -46.6600), (-23.5614, -46.6559), (-23.5712, -46.6453)),
    ),
    ("R. da Consolação", ((-23.5460, -46.6440), (-23.5520, -46.6540), (-23.5567, -46.6618))),
    ("Av. Rebouças", ((-23.5567, -46.6618), (-23.5640, -46.6740), (-23.5700, -46.6850))),
    ("Av. Brigadeiro Luís Antônio", ((-23.5500, -46.6390), (-23.5680, -46.6488), (-23.5840, -46.6560))),
    ("Av. 23 de Maio", ((-23.5470, -46.6350), (-23.5650, -46.6420), (-23.5830, -46.6540))),
    ("Av. Brasil", ((-23.5700, -46.6850), (-23.5790, -46.6700), (-23.5850, -46.6620))),
)
PARK: tuple[tuple[float, float], ...] = (
    (-23.5825, -46.6620),
    (-23.5830, -46.6540),
    (-23.5920, -46.6530),
    (-23.5945, -46.6620),
    (-23.5880, -46.6660),
)


def place(key: str) -> Place | None:
    return _BY_KEY.get(key)


NEAR_METRES = 700.0


def nearest(lat: float, lon: float) -> Place | None:
    """The named place within NEAR_METRES of a point (how an offer says where the trip goes), if any."""

    def metres(p: Place) -> float:
        dy = (p.lat - lat) * 111_320
        dx = (p.lon - lon) * 111_320 * math.cos(math.radians(lat))
        return math.hypot(dx, dy)

    best = min(PLACES, key=metres)
    return best if metres(best) <= NEAR_METRES else None


def xy(lat: float, lon: float) -> tuple[float, float]:
    """Where a coordinate falls on the SVG (a point outside the box lands outside the picture)."""
    x = (lon - WEST) / (EAST - WEST) * WIDTH
    y = (NORTH - lat) / (NORTH - SOUTH) * HEIGHT
    return round(x, 1), round(y, 1)


def path(points: tuple[tuple[float, float], ...]) -> str:
    """An SVG `points` attribute for a polyline or polygon through coordinates."""
    return " ".join(f"{x},{y}" for x, y in (xy(lat, lon) for lat, lon in points))


def frame() -> dict[str, float]:
    """The projection's numbers for the page's script (the map's `data-*`)."""
    return {"north": NORTH, "south": SOUTH, "west": WEST, "east": EAST, "width": WIDTH, "height": HEIGHT}
