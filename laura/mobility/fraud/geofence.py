"""Point in the service area (a GeoJSON Polygon or MultiPolygon).

Even-odd ray casting on lon/lat, written here rather than taking shapely: a city-sized polygon is flat
enough for planar geometry, the check is a dozen lines, and the plain install stays free of GEOS.
"""

from __future__ import annotations

from typing import Any

Ring = list[tuple[float, float]]


def polygons(area: dict[str, Any]) -> list[list[Ring]]:
    """The area's polygons, each an outer ring then its holes, as (lon, lat) pairs; ValueError if not one."""
    kind = area.get("type")
    coordinates = area.get("coordinates")
    shapes: Any
    if kind == "Polygon":
        shapes = [coordinates]
    elif kind == "MultiPolygon":
        shapes = coordinates
    else:
        raise ValueError("the service area must be a GeoJSON Polygon or MultiPolygon")
    if not isinstance(shapes, list) or not shapes:
        raise ValueError("the service area has no coordinates")
    out: list[list[Ring]] = []
    for shape in shapes:
        rings = [[(float(p[0]), float(p[1])) for p in ring] for ring in shape]
        if not rings or any(len(ring) < 4 for ring in rings):
            raise ValueError("every ring of the service area needs at least 4 positions")
        out.append(rings)
    return out


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def contains(shapes: list[list[Ring]], lat: float, lon: float) -> bool:
    """Inside some polygon's outer ring and none of its holes."""
    return any(
        _in_ring(lon, lat, rings[0]) and not any(_in_ring(lon, lat, hole) for hole in rings[1:])
        for rings in shapes
    )
