"""Rules judged as a ride completes: a fare over the maximum (R$ 30 in these tests) and a route driven far
longer than estimated flag the driver on that ride; a passenger and driver with 4 short rides together in
24 hours are both flagged, once a day. An honest ride, a traffic detour and regulars flag nothing."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.mobility.fraud.conftest import FAR
from tests.mobility.fraud.support import drive, flags_of
from tests.mobility.support import IBIRAPUERA, PAULISTA, admin, driver, passenger

NEAR = (PAULISTA[0] - 0.0045, PAULISTA[1])  # 500 m south: an estimate of ~650 m (x1.3)


def _flagged(rule: str) -> float:
    return REGISTRY.get_sample_value("fraud_flags_total", {"rule": rule}) or 0.0


async def test_a_fare_over_the_maximum_flags_the_driver_on_that_ride(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)
    rider_user, rider = await passenger(client)
    counted = _flagged("max_fare")

    honest = await drive(client, handle, rider, PAULISTA, IBIRAPUERA)
    assert float(honest["finalFare"]) < 30
    assert await flags_of(client, admin_headers, handle.user["id"]) == []

    costly = await drive(client, handle, rider, PAULISTA, FAR)

    (flag,) = await flags_of(client, admin_headers, handle.user["id"])
    assert (flag["rule"], flag["rideId"], flag["status"]) == ("max_fare", costly["id"], "OPEN")
    assert flag["details"]["fare"] == f"{costly['finalFare']:.2f}" and flag["details"]["maxFare"] == "30.00"
    assert await flags_of(client, admin_headers, rider_user["id"]) == []
    assert _flagged("max_fare") == counted + 1


async def test_a_route_far_longer_than_estimated_flags_and_a_detour_does_not(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)
    _, rider = await passenger(client)
    lat, lon = PAULISTA
    # the direct way in 100 m steps, then the same ride the long way round: 2.5 km for an estimate of 650 m
    direct = [(lat - 0.0009 * i, lon) for i in range(6)]
    around = [(lat, lon), (lat, lon + 0.005), (lat - 0.0045, lon + 0.005), (lat - 0.009, lon + 0.005),
              (lat - 0.009, lon), NEAR]  # fmt: skip

    honest = await drive(client, handle, rider, PAULISTA, NEAR, trail=direct, app=app)
    assert (
        honest["fareBasis"] == "trail" and honest["finalDistanceMeters"] < honest["estimatedDistanceMeters"]
    )
    assert await flags_of(client, admin_headers, handle.user["id"]) == []

    long = await drive(client, handle, rider, PAULISTA, NEAR, trail=around, app=app)

    assert long["fareBasis"] == "trail" and long["finalDistanceMeters"] > 2400
    (flag,) = await flags_of(client, admin_headers, handle.user["id"])
    assert (flag["rule"], flag["rideId"]) == ("long_route", long["id"])
    assert flag["details"]["finalDistanceM"] == long["finalDistanceMeters"]
    assert flag["details"]["estimatedDistanceM"] == long["estimatedDistanceMeters"]
    assert flag["details"]["ratio"] > 1.8


async def test_a_pair_with_four_short_rides_in_a_day_is_flagged_both_once(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)
    rider_user, rider = await passenger(client)
    regular_user, regular = await passenger(client)

    for _ in range(3):  # regulars: three short rides with the same driver are no collusion
        await drive(client, handle, regular, PAULISTA, NEAR)
    for _ in range(3):
        await drive(client, handle, rider, PAULISTA, NEAR)
    assert await flags_of(client, admin_headers, handle.user["id"]) == []

    fourth = await drive(client, handle, rider, PAULISTA, NEAR)
    await drive(client, handle, rider, PAULISTA, NEAR)  # a fifth the same day raises nothing new

    (on_driver,) = await flags_of(client, admin_headers, handle.user["id"])
    (on_rider,) = await flags_of(client, admin_headers, rider_user["id"])
    assert {on_driver["rule"], on_rider["rule"]} == {"collusion"}
    assert on_driver["rideId"] == on_rider["rideId"] == fourth["id"]
    assert on_driver["details"]["shortRides"] == 4
    assert on_rider["details"]["driverUserId"] == handle.user["id"]
    assert await flags_of(client, admin_headers, regular_user["id"]) == []
