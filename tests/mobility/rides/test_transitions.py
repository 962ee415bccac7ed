"""Every illegal transition is refused: exhaustively through the service's `transition`, and through each
HTTP step from every state, with 409 INVALID_STATE_TRANSITION naming the current state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from laura.mobility.rides import lifecycle
from laura.mobility.rides.errors import InvalidStateTransition
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import TRANSITIONS, RideStatus
from laura.settings import Settings
from tests.mobility.support import accept, admin, drivers, passenger, request_ride

ILLEGAL = [(s, t) for s in RideStatus for t in RideStatus if t not in TRANSITIONS[s]]

# What each HTTP step asks for, and the states it is allowed from.
STEPS = {
    "arrived": {RideStatus.ACCEPTED, RideStatus.DRIVER_ARRIVING},
    "start": {RideStatus.DRIVER_ARRIVED},
    "complete": {RideStatus.IN_PROGRESS},
    "cancel-passenger": {s for s in RideStatus if RideStatus.CANCELED in TRANSITIONS[s]},
    "cancel-driver": {RideStatus.ACCEPTED, RideStatus.DRIVER_ARRIVING, RideStatus.DRIVER_ARRIVED},
}
HTTP_CASES = [
    (state, step) for step, allowed in STEPS.items() for state in RideStatus if state not in allowed
]
TAKEN = {
    RideStatus.ACCEPTED,
    RideStatus.DRIVER_ARRIVING,
    RideStatus.DRIVER_ARRIVED,
    RideStatus.IN_PROGRESS,
    RideStatus.COMPLETED,
    RideStatus.PAYMENT_PENDING,
    RideStatus.PAID,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ride_offer_ttl_seconds": 3600.0, "ride_offer_batch_size": 2})


async def _set_state(app, ride_id: str, state: RideStatus, driver_id: str | None) -> None:
    now = datetime.now(UTC)
    async with app.state.db.unit_of_work() as session:
        await session.execute(
            text(
                "UPDATE rides SET status = :s, driver_id = :d, accepted_at = :now, started_at = :now"
                " WHERE id = :id"
            ),
            {"s": state.value, "d": driver_id, "now": now - timedelta(minutes=10), "id": ride_id},
        )


async def test_the_service_refuses_every_pair_outside_the_table(app, client):
    _, rider = await passenger(client)
    ride_id = uuid.UUID((await request_ride(client, rider)).json()["id"])
    assert len(ILLEGAL) == 12 * 12 - sum(len(v) for v in TRANSITIONS.values())
    for current, target in ILLEGAL:
        async with app.state.db.sessionmaker() as session:
            await session.execute(
                text("UPDATE rides SET status = :s WHERE id = :id"), {"s": current.value, "id": ride_id}
            )
            ride = await RideRepository(session).lock(ride_id)
            version = ride.version
            with pytest.raises(InvalidStateTransition) as refused:
                await lifecycle.transition(session, ride, target, now=datetime.now(UTC), actor_id=None)
            assert refused.value.status == 409
            assert refused.value.details == {"currentStatus": current.value, "requestedStatus": target.value}
            assert current.value in refused.value.message
            assert (ride.status, ride.version) == (current.value, version)
            await session.rollback()


async def test_every_http_step_from_a_state_it_is_not_allowed_from_is_409(app, client):
    admin_headers = await admin(app, client)
    assigned, other = await drivers(client, admin_headers, 2)
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert ride["status"] == "OFFERED"

    checked = 0
    for state, step in HTTP_CASES:
        await _set_state(app, ride["id"], state, assigned.id)
        if step == "cancel-passenger":
            answer = await client.post(f"/rides/{ride['id']}/cancel", json={"reason": "x"}, headers=rider)
        elif step == "cancel-driver":
            answer = await client.post(
                f"/rides/{ride['id']}/cancel", json={"reason": "x"}, headers=assigned.headers
            )
        else:
            answer = await client.post(f"/rides/{ride['id']}/{step}", headers=assigned.headers)
        assert answer.status_code == 409, (state, step, answer.text)
        body = answer.json()
        assert body["error"] == "INVALID_STATE_TRANSITION", (state, step, body)
        assert body["details"]["currentStatus"] == state.value
        assert state.value in body["message"]
        checked += 1
    assert checked == len(HTTP_CASES)

    for state in RideStatus:
        if state is RideStatus.OFFERED:
            continue
        await _set_state(app, ride["id"], state, assigned.id if state in TAKEN else None)
        answer = await accept(client, other, ride["id"])
        expected = "RIDE_ALREADY_ACCEPTED" if state in TAKEN else "INVALID_STATE_TRANSITION"
        assert (answer.status_code, answer.json()["error"]) == (409, expected), state
        assert answer.json()["details"]["currentStatus"] == state.value
