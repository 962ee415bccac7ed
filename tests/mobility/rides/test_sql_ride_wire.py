"""`ride_wire` (laura/mobility/rides/sql/ride_wire.sql) is the ride as `GET /rides/{id}` shows it (`RideOut`),
in every stage of a ride: the accept's answer and event are built with it, so the two must not drift."""

from __future__ import annotations

import uuid

import pytest

from laura.settings import Settings
from tests.mobility.support import IBIRAPUERA, accept, admin, driver, passenger, request_ride
from tests.sql_support import scalar


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"ride_offer_ttl_seconds": 600.0, "mobility_location_max_age_seconds": 3600.0}
    )


async def _same(app, client, headers: dict, ride_id: str) -> dict:
    shown = await client.get(f"/rides/{ride_id}", headers=headers)
    assert shown.status_code == 200, shown.text
    assert await scalar(app.state.db, "SELECT ride_wire($1)", uuid.UUID(ride_id)) == shown.json()
    return shown.json()


async def test_ride_wire_is_the_apis_ride_through_a_whole_trip_and_a_cancellation(app, client) -> None:
    taker = await driver(client, await admin(app, client))
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert (await _same(app, client, rider, ride["id"]))["driver"] is None

    assert (await accept(client, taker, ride["id"])).status_code == 200
    for step in ("arrived", "start"):
        assert (await client.post(f"/rides/{ride['id']}/{step}", headers=taker.headers)).status_code == 200
    await taker.locate(client, *IBIRAPUERA)
    assert (await client.post(f"/rides/{ride['id']}/complete", headers=taker.headers)).status_code == 200
    done = await _same(app, client, rider, ride["id"])
    assert done["finalFare"] is not None and done["completedAt"].endswith("Z")

    canceled = (await request_ride(client, rider)).json()
    answer = await client.post(f"/rides/{canceled['id']}/cancel", json={"reason": "plans"}, headers=rider)
    assert answer.status_code == 200, answer.text
    assert (await _same(app, client, rider, canceled["id"]))["cancelReason"] == "plans"
    assert await scalar(app.state.db, "SELECT ride_wire($1)", uuid.uuid4()) is None
