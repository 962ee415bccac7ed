"""Rule 3: past one cancellation in 24 hours (the tests' setting) a user is flagged, past two suspended
(403 ACCOUNT_SUSPENDED on requesting, going online and accepting) until an admin resolves the flag."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.mobility.fraud.support import flags_of, rows
from tests.mobility.support import accept, admin, driver, passenger, request_ride


async def _offered_and_canceled(client, rider: dict) -> None:
    ride = await request_ride(client, rider)
    assert ride.status_code == 201 and ride.json()["status"] == "OFFERED", ride.text
    canceled = await client.post(
        f"/rides/{ride.json()['id']}/cancel", json={"reason": "plans"}, headers=rider
    )
    assert canceled.status_code == 200, canceled.text


async def test_a_passenger_canceling_again_and_again_is_flagged_then_suspended_until_cleared(app, client):
    admin_headers = await admin(app, client)
    await driver(client, admin_headers)
    user, rider = await passenger(client)

    await _offered_and_canceled(client, rider)
    assert await flags_of(client, admin_headers, user["id"]) == []
    await _offered_and_canceled(client, rider)
    assert [f["rule"] for f in await flags_of(client, admin_headers, user["id"])] == ["cancellation_abuse"]
    await _offered_and_canceled(client, rider)

    flags = await flags_of(client, admin_headers, user["id"], rule="cancellation_suspension")
    (suspension,) = flags
    (before,) = await rows(app, "SELECT count(*) AS n FROM rides")
    refused = await request_ride(client, rider)
    assert (refused.status_code, refused.json()["error"]) == (403, "ACCOUNT_SUSPENDED")
    (after,) = await rows(app, "SELECT count(*) AS n FROM rides")
    assert after.n == before.n
    # one open flag per rule and day however many cancellations follow
    assert len(await flags_of(client, admin_headers, user["id"], status="OPEN")) == 2

    resolved = await client.post(
        f"/admin/fraud/flags/{suspension['id']}/resolve",
        json={"note": "talked to them"},
        headers=admin_headers,
    )

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "RESOLVED" and resolved.json()["resolutionNote"] == "talked to them"
    assert await rows(app, "SELECT user_id FROM mobility_suspensions") == []
    audited = await rows(app, "SELECT action FROM audit_logs WHERE resource_id = :id", id=suspension["id"])
    assert [a.action for a in audited] == ["fraud.flag.resolved"]
    again = await request_ride(client, rider)
    assert again.status_code == 201, again.text
    # the count towards a suspension starts again at the clearance: one more cancellation is no suspension
    canceled = await client.post(f"/rides/{again.json()['id']}/cancel", json={"reason": "x"}, headers=rider)
    assert canceled.status_code == 200, canceled.text
    assert (await request_ride(client, rider)).status_code == 201
    twice = await client.post(
        f"/admin/fraud/flags/{suspension['id']}/resolve", json={"note": "again"}, headers=admin_headers
    )
    assert (twice.status_code, twice.json()["error"]) == (409, "FRAUD_FLAG_ALREADY_RESOLVED")


async def test_a_driver_giving_up_rides_is_suspended_offline_and_cannot_go_online(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers)
    for _ in range(3):
        _, rider = await passenger(client)
        ride = (await request_ride(client, rider)).json()
        assert (await accept(client, handle, ride["id"])).status_code == 200
        gave_up = await client.post(
            f"/rides/{ride['id']}/cancel", json={"reason": "flat"}, headers=handle.headers
        )
        assert gave_up.status_code == 200, gave_up.text

    (row,) = await rows(app, "SELECT online FROM drivers WHERE id = :d", d=handle.id)
    assert row.online is False
    online = await client.post(f"/drivers/{handle.id}/online", json={"online": True}, headers=handle.headers)
    assert (online.status_code, online.json()["error"]) == (403, "ACCOUNT_SUSPENDED")
    (flag,) = await flags_of(client, admin_headers, handle.user["id"], rule="cancellation_suspension")
    assert flag["details"]["role"] == "driver"

    cleared = await client.post(
        f"/admin/fraud/flags/{flag['id']}/resolve", json={"note": "ok"}, headers=admin_headers
    )
    assert cleared.status_code == 200
    online = await client.post(f"/drivers/{handle.id}/online", json={"online": True}, headers=handle.headers)
    assert online.status_code == 200, online.text


async def test_a_suspended_driver_holding_an_offer_cannot_accept_it(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers)
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    async with app.state.db.sessionmaker() as session:
        flag = uuid.uuid4()
        await session.execute(
            text(
                "INSERT INTO fraud_flags (id, subject_user_id, rule, day) VALUES (:f, :u, 'cancellation_suspension', current_date);"
            ),
            {"f": flag, "u": handle.user["id"]},
        )
        await session.execute(
            text("INSERT INTO mobility_suspensions VALUES (:u, :f, 'cancellation_suspension', now())"),
            {"f": flag, "u": handle.user["id"]},
        )
        await session.commit()

    refused = await accept(client, handle, ride["id"])

    assert (refused.status_code, refused.json()["error"]) == (403, "ACCOUNT_SUSPENDED")
    (row,) = await rows(app, "SELECT status, driver_id FROM rides WHERE id = :r", r=ride["id"])
    assert (row.status, row.driver_id) == ("OFFERED", None)


async def test_the_review_is_for_admins_only_and_unknown_flags_are_404(app, client):
    _, rider = await passenger(client)
    assert (await client.get("/admin/fraud/flags", headers=rider)).status_code == 403
    missing = await client.post(
        f"/admin/fraud/flags/{uuid.uuid4()}/resolve", json={"note": "x"}, headers=await admin(app, client)
    )
    assert (missing.status_code, missing.json()["error"]) == (404, "FRAUD_FLAG_NOT_FOUND")
    forbidden = await client.post(
        f"/admin/fraud/flags/{uuid.uuid4()}/resolve", json={"note": "x"}, headers=rider
    )
    assert forbidden.status_code == 403
