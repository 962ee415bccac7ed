"""Estimates and surge, who may read a ride, cancellation fees and counts, the fare from the trail, ratings
both ways, history paging, the admin statistics and the metrics."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from laura.mobility.matching.geo import haversine_m
from laura.mobility.rides.pricing import estimate_fare
from laura.settings import Settings
from tests.mobility.support import (
    IBIRAPUERA,
    PAULISTA,
    accept,
    admin,
    driver,
    passenger,
    request_ride,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ride_offer_ttl_seconds": 3600.0})


async def _execute(app, sql: str, **params) -> None:
    async with app.state.db.unit_of_work() as session:
        await session.execute(text(sql), params)


async def _scalar(app, sql: str, **params):
    async with app.state.db.sessionmaker() as session:
        return await session.scalar(text(sql), params)


def _trip(pickup=PAULISTA, dropoff=IBIRAPUERA, category="standard") -> dict:
    return {
        "pickup": {"lat": pickup[0], "lon": pickup[1]},
        "dropoff": {"lat": dropoff[0], "lon": dropoff[1]},
        "category": category,
    }


async def test_estimate_quotes_without_creating_and_surges_with_waiting_requests(app, client):
    admin_headers = await admin(app, client)
    await driver(client, admin_headers)
    _, rider = await passenger(client)
    quote = await client.post("/rides/estimate", json=_trip(), headers=rider)
    assert quote.status_code == 200, quote.text
    body = quote.json()
    assert body["surgeMultiplier"] == 1.0 and body["availableDrivers"] == 1 and body["currency"] == "BRL"
    assert body["distanceMeters"] > 3000 and body["durationSeconds"] > 0 and body["pickupEtaSeconds"] >= 0
    expected = estimate_fare(body["distanceMeters"], body["durationSeconds"], "standard")
    assert Decimal(str(body["fare"])) == expected
    assert await _scalar(app, "SELECT count(*) FROM rides") == 0

    for _ in range(2):
        _, other = await passenger(client)
        assert (await request_ride(client, other)).json()["status"] == "OFFERED"
    surged = (await client.post("/rides/estimate", json=_trip(), headers=rider)).json()
    assert surged["surgeMultiplier"] == 2.0
    assert surged["fare"] > body["fare"]

    bad = await client.post("/rides/estimate", json=_trip(pickup=(0, 0)), headers=rider)
    assert bad.status_code == 422
    assert (
        await client.post("/rides/estimate", json=_trip(pickup=(95, 0)), headers=rider)
    ).status_code == 422


async def test_only_the_rides_passenger_driver_offered_drivers_and_admins_can_read_it(app, client):
    admin_headers = await admin(app, client)
    offered = await driver(client, admin_headers)
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert (await client.get(f"/rides/{ride['id']}", headers=rider)).status_code == 200
    assert (await client.get(f"/rides/{ride['id']}", headers=offered.headers)).status_code == 200
    assert (await client.get(f"/rides/{ride['id']}", headers=admin_headers)).status_code == 200
    _, other_rider = await passenger(client)
    stranger = await driver(client, admin_headers, at=None)
    for headers in (other_rider, stranger.headers):
        seen = await client.get(f"/rides/{ride['id']}", headers=headers)
        assert seen.status_code == 404 and seen.json()["error"] == "RIDE_NOT_FOUND"
    cancel = await client.post(f"/rides/{ride['id']}/cancel", json={"reason": "x"}, headers=other_rider)
    assert cancel.status_code == 404
    assert (await client.get(f"/rides/{uuid.uuid4()}", headers=rider)).status_code == 404
    second = await request_ride(client, rider)
    assert second.status_code == 409 and second.json()["error"] == "ACTIVE_RIDE_EXISTS"


@pytest.mark.parametrize(
    ("state", "minutes_since_acceptance", "fee", "rule"),
    [
        ("OFFERED", None, 0.0, "before_acceptance"),
        ("ACCEPTED", 1, 0.0, "grace_period"),
        ("ACCEPTED", 3, 5.0, "late"),
        ("DRIVER_ARRIVED", 1, 5.0, "driver_arrived"),
    ],
)
async def test_passenger_cancellation_fee(app, client, state, minutes_since_acceptance, fee, rule):
    handle = await driver(client, await admin(app, client))
    user, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    if minutes_since_acceptance is not None:
        assert (await accept(client, handle, ride["id"])).status_code == 200
        await _execute(
            app,
            "UPDATE rides SET status = :s, accepted_at = now() - make_interval(mins => :m) WHERE id = :id",
            s=state,
            m=minutes_since_acceptance,
            id=ride["id"],
        )
    canceled = await client.post(
        f"/rides/{ride['id']}/cancel", json={"reason": "changed plans"}, headers=rider
    )
    assert canceled.status_code == 200, canceled.text
    body = canceled.json()
    assert (body["status"], body["cancellationFee"], body["canceledBy"]) == ("CANCELED", fee, "passenger")
    assert await _scalar(app, "SELECT cancellation_rule FROM rides WHERE id = :id", id=ride["id"]) == rule
    counts = await _scalar(
        app,
        "SELECT with_fee FROM ride_cancellation_counters WHERE user_id = :u AND role = 'passenger'",
        u=uuid.UUID(user["id"]),
    )
    assert counts == (1 if fee else 0)
    assert (await client.get("/drivers/me", headers=handle.headers)).json()["status"] == "available"


async def test_the_final_fare_measures_the_trail_driven(app, client):
    handle = await driver(client, await admin(app, client))
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert (await accept(client, handle, ride["id"])).status_code == 200
    for step in ("arrived", "start"):
        assert (await client.post(f"/rides/{ride['id']}/{step}", headers=handle.headers)).status_code == 200
    started = datetime.now(UTC) - timedelta(minutes=10)
    await _execute(app, "UPDATE rides SET started_at = :t WHERE id = :id", t=started, id=ride["id"])
    points = [(started + timedelta(seconds=30 * i), PAULISTA[0] - 0.0025 * i, PAULISTA[1]) for i in range(21)]
    async with app.state.db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO location_updates (driver_id, ride_id, lat, lon, recorded_at)"
                " VALUES (:d, :r, :lat, :lon, :t)"
            ),
            [
                {"d": uuid.UUID(handle.id), "r": uuid.UUID(ride["id"]), "lat": la, "lon": lo, "t": t}
                for t, la, lo in points
            ],
        )
    done = await client.post(f"/rides/{ride['id']}/complete", headers=handle.headers)
    assert done.status_code == 200, done.text
    body = done.json()
    driven = sum(haversine_m(a[1], a[2], b[1], b[2]) for a, b in itertools.pairwise(points))
    assert body["fareBasis"] == "trail"
    assert body["finalDistanceMeters"] == round(driven)
    assert 599 <= body["finalDurationSeconds"] <= 660
    fare = estimate_fare(body["finalDistanceMeters"], body["finalDurationSeconds"], "standard")
    assert Decimal(str(body["finalFare"])) == fare


async def test_both_sides_rate_once_and_averages_follow(app, client):
    handle = await driver(client, await admin(app, client))
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    early = await client.post(f"/rides/{ride['id']}/rating", json={"stars": 5}, headers=rider)
    assert early.status_code == 409 and early.json()["error"] == "RIDE_NOT_COMPLETED"
    await accept(client, handle, ride["id"])
    for step in ("arrived", "start", "complete"):
        assert (await client.post(f"/rides/{ride['id']}/{step}", headers=handle.headers)).status_code == 200
    by_driver = await client.post(
        f"/rides/{ride['id']}/rating", json={"stars": 3, "comment": "late at pickup"}, headers=handle.headers
    )
    assert by_driver.status_code == 201 and by_driver.json()["raterRole"] == "driver"
    assert (
        await client.post(f"/rides/{ride['id']}/rating", json={"stars": 6}, headers=rider)
    ).status_code == 422
    assert (
        await client.post(f"/rides/{ride['id']}/rating", json={"stars": 5}, headers=rider)
    ).status_code == 201
    me = (await client.get("/passengers/me", headers=rider)).json()
    assert (me["averageRating"], me["ratingCount"], me["totalRides"]) == (3.0, 1, 1)
    assert (await client.get("/drivers/me", headers=handle.headers)).json()["averageRating"] == 5.0


async def test_history_pages_and_admin_stats_and_metrics(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers)
    _, rider = await passenger(client)
    for i in range(3):
        ride = (await request_ride(client, rider)).json()
        if i == 0:
            await client.post(f"/rides/{ride['id']}/cancel", json={"reason": "x"}, headers=rider)
            continue
        await accept(client, handle, ride["id"])
        for step in ("arrived", "start", "complete"):
            assert (
                await client.post(f"/rides/{ride['id']}/{step}", headers=handle.headers)
            ).status_code == 200

    first = (await client.get("/rides/history?limit=2", headers=rider)).json()
    assert first["pagination"] == {
        "page": 1,
        "limit": 2,
        "total": 3,
        "totalPages": 2,
        "hasMore": True,
        "nextCursor": None,
    }
    second = (await client.get("/rides/history?limit=2&page=2", headers=rider)).json()
    assert len(first["data"]) == 2 and len(second["data"]) == 1
    driven = (await client.get("/rides/history", headers=handle.headers)).json()
    assert driven["pagination"]["total"] == 2

    assert (await client.get("/admin/rides/stats", headers=rider)).status_code == 403
    stats = await client.get("/admin/rides/stats", headers=admin_headers)
    assert stats.status_code == 200, stats.text
    today = stats.json()["today"]
    assert today["total"] == 3
    assert today["byStatus"]["COMPLETED"] == 2 and today["byStatus"]["CANCELED"] == 1
    assert today["byStatus"]["PAID"] == 0
    assert today["cancellationRate"] == round(1 / 3, 4)
    assert today["acceptanceRate"] == round(2 / 3, 4)
    assert today["averageTimeToAcceptSeconds"] >= 0 and today["averageRideDurationSeconds"] >= 0
    assert stats.json()["month"]["total"] >= 3

    metrics = (await client.get("/metrics")).text
    for name in (
        'rides_created_total{category="standard"}',
        "rides_accepted_total",
        'rides_canceled_total{reason="before_acceptance"}',
        "ride_accept_duration_seconds_count",
        "active_rides",
        "drivers_online",
        "drivers_available",
    ):
        assert name in metrics, name
