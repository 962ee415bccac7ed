"""A ride over HTTP from request to completion: dispatch, accept, arrive, start, complete, rate, read back."""

from __future__ import annotations

from sqlalchemy import text

from tests.mobility.support import PAULISTA, accept, admin, driver, passenger, request_ride


async def test_request_accept_arrive_start_complete_and_rate(app, client):
    admin_headers = await admin(app, client)
    near = await driver(client, admin_headers, at=(PAULISTA[0] + 0.001, PAULISTA[1]))
    far = await driver(client, admin_headers, at=(PAULISTA[0] + 0.01, PAULISTA[1]))
    _, rider = await passenger(client)

    created = await request_ride(client, rider)
    assert created.status_code == 201, created.text
    ride = created.json()
    assert ride["status"] == "OFFERED"
    assert ride["dispatchRound"] == 1
    assert ride["estimatedFare"] > 0 and ride["surgeMultiplier"] == 1.0

    won = await accept(client, near, ride["id"])
    assert won.status_code == 200, won.text
    assert won.json()["status"] == "ACCEPTED" and won.json()["driverId"] == near.id
    lost = await accept(client, far, ride["id"])
    assert lost.status_code == 409 and lost.json()["error"] == "RIDE_ALREADY_ACCEPTED"

    assert (await near.locate(client, PAULISTA[0] + 0.0005, PAULISTA[1])).status_code == 200
    seen = (await client.get(f"/rides/{ride['id']}", headers=rider)).json()
    assert seen["status"] == "DRIVER_ARRIVING" and seen["driver"]["id"] == near.id

    for step, status in (("arrived", "DRIVER_ARRIVED"), ("start", "IN_PROGRESS")):
        moved = await client.post(f"/rides/{ride['id']}/{step}", headers=near.headers)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status

    done = await client.post(f"/rides/{ride['id']}/complete", headers=near.headers)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "COMPLETED"
    assert body["fareBasis"] == "estimate"
    assert body["finalDistanceMeters"] == ride["estimatedDistanceMeters"]
    assert body["finalFare"] > 0

    rated = await client.post(f"/rides/{ride['id']}/rating", json={"stars": 4}, headers=rider)
    assert rated.status_code == 201, rated.text
    again = await client.post(f"/rides/{ride['id']}/rating", json={"stars": 5}, headers=rider)
    assert again.status_code == 409 and again.json()["error"] == "RIDE_ALREADY_RATED"
    me = (await client.get("/drivers/me", headers=near.headers)).json()
    assert me["averageRating"] == 4.0 and me["totalRides"] == 1 and me["status"] == "available"

    history = (await client.get("/rides/history", headers=rider)).json()
    assert [r["id"] for r in history["data"]] == [ride["id"]]
    assert history["pagination"]["total"] == 1
    assert (await client.get("/rides/active", headers=rider)).json()["data"] == []

    async with app.state.db.sessionmaker() as session:
        version = await session.scalar(text("SELECT version FROM rides WHERE id = :id"), {"id": ride["id"]})
        audited = await session.scalar(
            text(
                "SELECT count(*) FROM audit_logs WHERE resource_id = :id AND action = 'RIDE_STATUS_CHANGED'"
            ),
            {"id": ride["id"]},
        )
    # SEARCHING, OFFERED, ACCEPTED, DRIVER_ARRIVING, DRIVER_ARRIVED, IN_PROGRESS, COMPLETED
    assert audited == 7
    assert version >= 8
