"""`ride_accept` (laura/mobility/rides/sql/accept.sql) called directly with SQL: each outcome and refusal, and
the statuses it accepts from, which must be the state table's (`states.TRANSITIONS`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from laura.identity.service import Caller
from laura.mobility.rides import accept
from laura.mobility.rides.outcomes import RideAcceptOutcome
from laura.mobility.rides.repository import TAKEN
from laura.mobility.rides.states import RideStatus, can_transition
from laura.settings import Settings
from tests.mobility.support import admin, driver, passenger, request_ride
from tests.sql_support import call, scalar, session_of


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"ride_offer_ttl_seconds": 600.0, "mobility_location_max_age_seconds": 3600.0}
    )


async def _accept(
    app,
    user: dict,
    ride_id: str,
    *,
    key: str | None = None,
    may_try: bool = True,
    try_lock: bool = True,
    locked: bool | None = None,
):
    """`ride_accept` with the arguments the app sends (`accept._accept_args`), for `user`'s live session."""
    db = app.state.db
    caller = Caller(id=uuid.UUID(user["id"]), role="driver", session_id=await session_of(db, user["id"]))
    args = accept._accept_args(
        caller,
        uuid.UUID(ride_id),
        key or uuid.uuid4().hex,
        "req-1",
        datetime.now(UTC),
        locked,
        may_try=may_try,
        try_lock=try_lock,
    )
    return await call(db, "ride_accept", taken=[status.value for status in TAKEN], **args)


@pytest.fixture
async def offered(app, client) -> tuple[dict, dict, str]:
    """A driver holding the one live offer of an OFFERED ride: (driver user, passenger user, ride id)."""
    taker = await driver(client, await admin(app, client))
    rider, rider_headers = await passenger(client)
    ride = (await request_ride(client, rider_headers)).json()
    assert ride["status"] == RideStatus.OFFERED
    return taker.user, rider, ride["id"]


async def _reset(app, ride_id: str, status: RideStatus) -> None:
    """The ride back in `status`, unassigned, with its offers live again and no driver on a trip."""
    db = app.state.db
    await scalar(
        db,
        "UPDATE rides SET status = $2, driver_id = NULL WHERE id = $1 RETURNING 1",
        uuid.UUID(ride_id),
        status,
    )
    await scalar(
        db,
        "UPDATE ride_offers SET response = NULL, responded_at = NULL, expires_at = now() + interval '1 hour'"
        " WHERE ride_id = $1 RETURNING 1",
        uuid.UUID(ride_id),
    )
    await scalar(db, "UPDATE drivers SET current_ride_id = NULL RETURNING 1")


async def test_the_statuses_it_accepts_from_are_the_state_tables(app, offered) -> None:
    taker, _, ride_id = offered
    answers = {}
    for status in sorted(RideStatus, key=lambda s: s is RideStatus.OFFERED):
        await _reset(app, ride_id, status)
        answers[status] = await _accept(app, taker, ride_id)

    accepted = {s for s, row in answers.items() if row["outcome"] == RideAcceptOutcome.ACCEPTED}
    assert accepted == {s for s in RideStatus if can_transition(s, RideStatus.ACCEPTED)}
    for status, row in answers.items():
        if status in accepted:
            continue
        assert row["outcome"] == RideAcceptOutcome.ANSWERED and row["answer_status"] == 409
        if status in TAKEN:
            assert row["answer_body"]["error"] == "RIDE_ALREADY_ACCEPTED"
        else:
            assert row["answer_body"]["error"] == "INVALID_STATE_TRANSITION"
            assert row["answer_body"]["details"]["currentStatus"] == status


async def test_accepted_assigns_the_ride_and_a_repeat_of_the_key_replays(app, offered) -> None:
    db = app.state.db
    taker, _, ride_id = offered
    won = await _accept(app, taker, ride_id, key="k-1")

    assert won["outcome"] == RideAcceptOutcome.ACCEPTED and won["answer_status"] == 200
    assert won["answer_body"]["status"] == RideStatus.ACCEPTED and won["answer_body"]["id"] == ride_id
    assert str(won["mirror_driver"]) == await scalar(
        db, "SELECT id::text FROM drivers WHERE user_id = $1", uuid.UUID(taker["id"])
    )
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE type = 'ride.accepted'") == 1
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM audit_logs WHERE action = 'RIDE_STATUS_CHANGED' AND new_values->>'status' = 'ACCEPTED'",
        )
        == 1
    )

    again = await _accept(app, taker, ride_id, key="k-1")
    assert (again["outcome"], again["answer_body"]) == (RideAcceptOutcome.REPLAY, won["answer_body"])
    held = await _accept(app, taker, ride_id, key="k-2")
    assert (held["outcome"], held["answer_status"]) == (RideAcceptOutcome.ANSWERED, 200)
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE type = 'ride.accepted'") == 1


async def test_who_asks_is_checked_first(app, client, offered) -> None:
    db = app.state.db
    taker, rider, ride_id = offered
    assert (await _accept(app, rider, ride_id))["outcome"] == RideAcceptOutcome.NO_DRIVER
    assert (await _accept(app, taker, str(uuid.uuid4())))["outcome"] == RideAcceptOutcome.NO_RIDE
    assert (await _accept(app, taker, ride_id, may_try=False))["outcome"] == RideAcceptOutcome.RATE_LIMITED
    await scalar(
        db,
        "UPDATE auth_sessions SET revoked_at = now() WHERE user_id = $1 RETURNING 1",
        uuid.UUID(taker["id"]),
    )
    assert (await _accept(app, taker, ride_id))["outcome"] == RideAcceptOutcome.SESSION_ENDED
    assert await scalar(db, "SELECT count(*) FROM ride_accept_attempts") == 0


async def test_each_refusal_is_answered_and_stored_on_the_attempt(app, client, offered) -> None:
    db = app.state.db
    taker, _, ride_id = offered
    stranger = (await driver(client, await admin(app, client), at=None)).user
    refusals = {}
    refusals["not_offered"] = await _accept(app, stranger, ride_id)
    refusals["busy"] = await _accept(app, taker, ride_id, try_lock=False, locked=False)
    await scalar(db, "UPDATE ride_offers SET expires_at = now() - interval '1 second' RETURNING 1")
    refusals["offer_closed"] = await _accept(app, taker, ride_id)
    await _reset(app, ride_id, RideStatus.OFFERED)
    await scalar(
        db,
        "UPDATE drivers SET current_ride_id = $1 WHERE user_id = $2 RETURNING 1",
        uuid.UUID(ride_id),
        uuid.UUID(taker["id"]),
    )
    refusals["driver_busy"] = await _accept(app, taker, ride_id)

    answers = {
        kind: (row["outcome"], row["answer_status"], row["answer_body"]["error"])
        for kind, row in refusals.items()
    }
    assert answers == {
        "not_offered": (RideAcceptOutcome.ANSWERED, 404, "RIDE_NOT_FOUND"),
        "busy": (RideAcceptOutcome.ANSWERED, 409, "RIDE_ALREADY_ACCEPTED"),
        "offer_closed": (RideAcceptOutcome.ANSWERED, 409, "OFFER_EXPIRED"),
        "driver_busy": (RideAcceptOutcome.ANSWERED, 409, "DRIVER_BUSY"),
    }
    assert refusals["offer_closed"]["answer_body"]["details"]["response"] == "EXPIRED"
    assert all(row["answer_body"]["requestId"] == "req-1" for row in refusals.values())
    assert await scalar(db, "SELECT count(*) FROM ride_accept_attempts WHERE status = 'FAILED'") == 4
    assert (
        await scalar(db, "SELECT status FROM rides WHERE id = $1", uuid.UUID(ride_id)) == RideStatus.OFFERED
    )


async def test_a_suspended_driver_is_refused_but_a_replay_still_answers(app, client, offered) -> None:
    db = app.state.db
    taker, _, ride_id = offered
    won = await _accept(app, taker, ride_id, key="k-1")
    assert won["outcome"] == RideAcceptOutcome.ACCEPTED
    user_id = uuid.UUID(taker["id"])
    flag = uuid.uuid4()
    await scalar(
        db,
        "INSERT INTO fraud_flags (id, subject_user_id, rule, day) VALUES ($1, $2, 'cancellation_suspension',"
        " current_date) RETURNING 1",
        flag,
        user_id,
    )
    await scalar(
        db, "INSERT INTO mobility_suspensions VALUES ($1, $2, 'x', now()) RETURNING 1", user_id, flag
    )

    assert (await _accept(app, taker, ride_id, key="k-2"))["outcome"] == RideAcceptOutcome.SUSPENDED
    assert (await _accept(app, taker, ride_id, key="k-1"))["outcome"] == RideAcceptOutcome.REPLAY
    assert await scalar(db, "SELECT count(*) FROM ride_accept_attempts") == 1
