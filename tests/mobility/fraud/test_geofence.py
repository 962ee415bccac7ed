"""Rule 1: rides start and end inside the service area (422 OUTSIDE_SERVICE_AREA, nothing written)."""

from __future__ import annotations

import pytest

from laura.mobility.fraud.geofence import contains, polygons
from tests.mobility.fraud.conftest import RIO, SAO_PAULO
from tests.mobility.fraud.support import rows
from tests.mobility.support import IBIRAPUERA, PAULISTA, admin, driver, passenger, request_ride

SQUARE = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]]
HOLE = [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]


def test_polygon_with_a_hole_and_multipolygon():
    shapes = polygons(
        {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE], [[[20, 20], [21, 20], [21, 21], [20, 20]]]]}
    )
    assert contains(shapes, 1, 1)
    assert not contains(shapes, 5, 5)  # in the hole
    assert contains(shapes, 20.2, 20.5)  # (lat, lon) in the second polygon
    assert not contains(shapes, 15, 15)
    assert contains(polygons(SAO_PAULO), *PAULISTA)
    assert not contains(polygons(SAO_PAULO), *RIO)


@pytest.mark.parametrize(
    "area", [{"type": "Point", "coordinates": [0, 0]}, {"type": "Polygon", "coordinates": []}]
)
def test_an_area_that_is_no_polygon_is_refused(area):
    with pytest.raises(ValueError):
        polygons(area)


@pytest.mark.parametrize(
    "pickup, dropoff, outside", [(PAULISTA, RIO, ["dropoff"]), (RIO, RIO, ["pickup", "dropoff"])]
)
async def test_a_ride_leaving_the_area_is_refused_and_nothing_written(app, client, pickup, dropoff, outside):
    await driver(client, await admin(app, client))
    _, rider = await passenger(client)

    refused = await request_ride(client, rider, pickup=pickup, dropoff=dropoff)

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "OUTSIDE_SERVICE_AREA"
    assert [d["field"] for d in refused.json()["details"]] == outside
    assert await rows(app, "SELECT id FROM rides") == []
    body = {"pickup": {"lat": pickup[0], "lon": pickup[1]}, "dropoff": {"lat": dropoff[0], "lon": dropoff[1]}}
    estimate = await client.post("/rides/estimate", json={**body, "category": "standard"}, headers=rider)
    assert (estimate.status_code, estimate.json()["error"]) == (422, "OUTSIDE_SERVICE_AREA")


async def test_a_ride_inside_the_area_goes_on(app, client):
    await driver(client, await admin(app, client))
    _, rider = await passenger(client)

    created = await request_ride(client, rider, pickup=PAULISTA, dropoff=IBIRAPUERA)

    assert created.status_code == 201, created.text
    assert created.json()["status"] == "OFFERED"
