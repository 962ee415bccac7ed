"""Dispatch: no driver expires the ride; a lapsed batch is re-offered by its job to the next drivers (those
asked before are skipped) for up to 3 rounds; a batch everyone declined moves on at once; a driver who
gives up an accepted ride sends it back to a new batch."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from laura.core.jobs import JobRuntime, bind_runtime
from laura.mobility.rides.tasks import offer_round_expired
from laura.settings import Settings
from tests.jobs_support import running_worker
from tests.mobility.support import PAULISTA, accept, admin, driver, passenger, request_ride

TTL = 0.3
"""The offers' lifetime in the tests that wait for a batch to lapse."""


@pytest.fixture
def offer_ttl() -> float:
    """The offers' lifetime in the tests that act on a live offer: long enough that none lapses before the
    test's next request however loaded the machine (a test that waits for lapses parametrizes it to TTL)."""
    return 600.0


@pytest.fixture
def settings(settings: Settings, offer_ttl: float) -> Settings:
    return settings.model_copy(
        update={"ride_offer_batch_size": 2, "ride_offer_ttl_seconds": offer_ttl, "ride_max_offer_rounds": 3}
    )


async def _fleet(app, client, count: int) -> list:
    """Drivers ever farther north of the pickup, so the nearest-first order is known."""
    admin_headers = await admin(app, client)
    return [
        await driver(client, admin_headers, at=(PAULISTA[0] + 0.002 * (i + 1), PAULISTA[1]))
        for i in range(count)
    ]


async def _offers(app, ride_id: str) -> dict[str, tuple[int, str | None]]:
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT driver_id, round, response FROM ride_offers WHERE ride_id = :r"), {"r": ride_id}
        )
        return {str(r.driver_id): (r.round, r.response) for r in rows}


async def _ride(app, ride_id: str):
    async with app.state.db.sessionmaker() as session:
        return (
            await session.execute(
                text("SELECT status, dispatch_round, expire_reason FROM rides WHERE id = :r"), {"r": ride_id}
            )
        ).one()


async def _events(app, ride_id: str) -> list[tuple[str, set[str]]]:
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT type, user_ids FROM outbox WHERE data->>'rideId' = :r ORDER BY id"), {"r": ride_id}
        )
        return [(r.type, {str(u) for u in r.user_ids}) for r in rows]


async def test_no_driver_nearby_expires_the_ride_and_tells_the_passenger(app, client):
    user, rider = await passenger(client)
    created = await request_ride(client, rider)
    assert created.status_code == 201
    ride = created.json()
    assert (ride["status"], ride["expireReason"]) == ("EXPIRED", "NO_DRIVERS")
    assert ("ride.expired", {user["id"]}) in await _events(app, ride["id"])
    assert (await client.get("/rides/active", headers=rider)).json()["data"] == []


@pytest.mark.parametrize("offer_ttl", [TTL])
async def test_each_lapsed_batch_is_offered_to_the_next_drivers_by_its_job(app, client, settings):
    fleet = await _fleet(app, client, 5)
    ids = [d.id for d in fleet]
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert ride["status"] == "OFFERED"
    assert await _offers(app, ride["id"]) == {ids[0]: (1, None), ids[1]: (1, None)}
    async with app.state.db.sessionmaker() as session:
        queued = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs"
                " WHERE task_name = 'mobility.rides.offer_round_expired'"
            )
        )
    assert queued == 1

    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        for expected_round in (2, 3):
            await asyncio.sleep(TTL + 0.05)
            await offer_round_expired(ride_id=ride["id"], round=expected_round - 1)
            state = await _ride(app, ride["id"])
            assert (state.status, state.dispatch_round) == ("OFFERED", expected_round)
        offers = await _offers(app, ride["id"])
        assert offers == {
            ids[0]: (1, "EXPIRED"),
            ids[1]: (1, "EXPIRED"),
            ids[2]: (2, "EXPIRED"),
            ids[3]: (2, "EXPIRED"),
            ids[4]: (3, None),
        }
        assert await offer_round_expired(ride_id=ride["id"], round=2) == "stale"
        await asyncio.sleep(TTL + 0.05)
        await offer_round_expired(ride_id=ride["id"], round=3)

    state = await _ride(app, ride["id"])
    assert (state.status, state.expire_reason) == ("EXPIRED", "NO_DRIVER_ACCEPTED")
    events = await _events(app, ride["id"])
    offered_to = [users for kind, users in events if kind == "ride.offered"]
    assert offered_to == [
        {fleet[0].user["id"], fleet[1].user["id"]},
        {fleet[2].user["id"], fleet[3].user["id"]},
        {fleet[4].user["id"]},
    ]
    assert [kind for kind, _ in events].count("offer.expired") == 3


@pytest.mark.parametrize("offer_ttl", [TTL])
async def test_a_running_worker_moves_the_ride_through_its_rounds(app, client, settings):
    await _fleet(app, client, 3)
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()

    async with running_worker(settings, concurrency=2) as worker:
        state = await worker.until(lambda: _expired(app, ride["id"]))

    assert state.expire_reason == "NO_DRIVERS"
    rounds = {r for r, _ in (await _offers(app, ride["id"])).values()}
    assert rounds == {1, 2}


async def _expired(app, ride_id: str):
    state = await _ride(app, ride_id)
    return state if state.status == "EXPIRED" else None


async def test_when_the_whole_batch_declines_the_next_goes_out_at_once(app, client):
    fleet = await _fleet(app, client, 3)
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()

    first = await client.post(f"/rides/{ride['id']}/reject", headers=fleet[0].headers)
    assert first.status_code == 200 and first.json()["response"] == "REJECTED"
    assert (await _ride(app, ride["id"])).dispatch_round == 1
    assert (await client.post(f"/rides/{ride['id']}/reject", headers=fleet[1].headers)).status_code == 200

    state = await _ride(app, ride["id"])
    assert (state.status, state.dispatch_round) == ("OFFERED", 2)
    assert (await _offers(app, ride["id"]))[fleet[2].id] == (2, None)
    again = await client.post(f"/rides/{ride['id']}/reject", headers=fleet[0].headers)
    assert again.status_code == 409 and again.json()["error"] == "OFFER_EXPIRED"
    late = await accept(client, fleet[0], ride["id"])
    assert late.status_code == 409 and late.json()["error"] == "OFFER_EXPIRED"


async def test_a_driver_giving_up_sends_the_ride_to_a_new_batch_without_them(app, client):
    fleet = await _fleet(app, client, 3)
    user, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    taken = await accept(client, fleet[0], ride["id"])
    assert taken.status_code == 200, taken.text

    gave_up = await client.post(
        f"/rides/{ride['id']}/cancel", json={"reason": "flat tyre"}, headers=fleet[0].headers
    )
    assert gave_up.status_code == 200, gave_up.text
    assert gave_up.json()["status"] == "OFFERED" and gave_up.json()["driverId"] is None
    offers = await _offers(app, ride["id"])
    assert offers[fleet[2].id] == (2, None)
    assert offers[fleet[0].id] == (1, "ACCEPTED")
    assert ("ride.driver_canceled", {user["id"], fleet[0].user["id"]}) in await _events(app, ride["id"])
    me = (await client.get("/drivers/me", headers=fleet[0].headers)).json()
    assert me["status"] == "available" and me["currentRideId"] is None
    async with app.state.db.sessionmaker() as session:
        counted = await session.scalar(
            text("SELECT total FROM ride_cancellation_counters WHERE user_id = :u AND role = 'driver'"),
            {"u": uuid.UUID(fleet[0].user["id"])},
        )
    assert counted == 1
    assert (await accept(client, fleet[2], ride["id"])).status_code == 200
