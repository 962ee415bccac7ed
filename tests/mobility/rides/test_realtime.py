"""End to end over a real socket: the passenger's WebSocket receives `ride.accepted` and then the driver's
`driver.location.updated`; the driver's receives `ride.offered`."""

from __future__ import annotations

import pytest

from laura.settings import Settings
from tests.helpers import login
from tests.mobility.support import PAULISTA, accept, admin, driver, passenger, request_ride
from tests.realtime.client import listening
from tests.realtime.conftest import ws_url  # noqa: F401 - the real-socket server fixture


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"events_poll_seconds": 0.2})


async def _token(client, user: dict) -> str:
    return (await login(client, user["email"]))["accessToken"]


async def _next(socket, kind: str) -> dict:
    """The next frame of `kind`, skipping others addressed to the same user."""
    while True:
        frame = await socket.frame()
        if frame["type"] == kind:
            return frame


async def test_passenger_sees_the_acceptance_and_the_driver_moving(app, client, ws_url):
    handle = await driver(client, await admin(app, client))
    rider_user, rider = await passenger(client)
    async with (
        listening(ws_url, await _token(client, rider_user)) as to_passenger,
        listening(ws_url, await _token(client, handle.user)) as to_driver,
    ):
        ride = (await request_ride(client, rider)).json()
        offered = await _next(to_driver, "ride.offered")
        assert offered["data"]["rideId"] == ride["id"]

        assert (await accept(client, handle, ride["id"])).status_code == 200
        accepted = await _next(to_passenger, "ride.accepted")
        assert accepted["data"]["id"] == ride["id"]
        assert accepted["data"]["status"] == "ACCEPTED"
        assert accepted["data"]["driver"]["id"] == handle.id
        assert accepted["data"]["driver"]["vehicle"]["licensePlate"]

        assert (await handle.locate(client, PAULISTA[0] + 0.0008, PAULISTA[1] + 0.0003)).status_code == 200
        moved = await _next(to_passenger, "driver.location.updated")
        assert moved["data"]["rideId"] == ride["id"]
        assert moved["data"]["driverId"] == handle.id
        assert (moved["data"]["lat"], moved["data"]["lon"]) == (PAULISTA[0] + 0.0008, PAULISTA[1] + 0.0003)
        assert moved["data"]["recordedAt"].endswith("Z")
