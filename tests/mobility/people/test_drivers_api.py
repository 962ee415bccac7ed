"""Passenger profiles at registration; driver onboarding checks; the admin approval queue; going online."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tests.helpers import auth_headers, random_cpf
from tests.mobility.support import admin, driver_body, passenger


async def _scalar(app, sql: str, **params):
    async with app.state.db.sessionmaker() as session:
        return await session.scalar(text(sql), params)


async def test_a_passenger_account_comes_with_its_profile(app, client):
    cpf = random_cpf()
    user, headers = await auth_headers(client, user_type="passenger", cpf=cpf, name="Paula Nunes")
    profile = await client.get("/passengers/me", headers=headers)
    assert profile.status_code == 200
    body = profile.json()
    assert (body["userId"], body["fullName"], body["cpf"], body["totalRides"]) == (
        user["id"],
        "Paula Nunes",
        cpf,
        0,
    )
    assert body["averageRating"] is None
    _, customer = await auth_headers(client, user_type="customer")
    refused = await client.get("/passengers/me", headers=customer)
    assert refused.status_code == 403 and refused.json()["error"] == "PASSENGER_PROFILE_REQUIRED"


async def test_driver_registration_normalizes_documents_and_waits_for_approval(client):
    _, headers = await auth_headers(client, user_type="driver")
    body = driver_body(pixKey="Diego@Laura.dev", vehicle={"licensePlate": "abc-1d23", "category": "comfort"})
    body["cpf"] = f"{body['cpf'][:3]}.{body['cpf'][3:6]}.{body['cpf'][6:9]}-{body['cpf'][9:]}"
    created = await client.post("/drivers", json=body, headers=headers)
    assert created.status_code == 201, created.text
    profile = created.json()
    assert profile["approvalStatus"] == "PENDING_APPROVAL" and profile["status"] == "offline"
    assert len(profile["cpf"]) == 11 and profile["cpf"].isdigit()
    assert (profile["pixKey"], profile["pixKeyType"]) == ("diego@laura.dev", "EMAIL")
    assert profile["vehicle"]["licensePlate"] == "ABC1D23"
    assert profile["vehicle"]["category"] == "comfort"
    again = await client.post("/drivers", json=driver_body(), headers=headers)
    assert again.status_code == 409 and again.json()["error"] == "DRIVER_ALREADY_REGISTERED"
    me = await client.get("/drivers/me", headers=headers)
    assert me.json()["id"] == profile["id"]


async def test_bad_documents_plates_years_and_pix_keys_are_422_naming_the_field(client):
    year = datetime.now(UTC).year
    cases = {
        "cpf": driver_body(cpf="123.456.789-00"),
        "cnhNumber": driver_body(cnhNumber="12345678901"),
        "vehicle.licensePlate": driver_body(vehicle={"licensePlate": "AB12345"}),
        "vehicle.year": driver_body(vehicle={"category": "premium", "year": year - 6}),
        "pixKey": driver_body(pixKey="not a key"),
    }
    for field, body in cases.items():
        _, headers = await auth_headers(client, user_type="driver")
        answer = await client.post("/drivers", json=body, headers=headers)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["error"] == "VALIDATION_ERROR"
        assert answer.json()["details"][0]["field"] == field
    _, headers = await auth_headers(client, user_type="driver")
    oldest_allowed = driver_body(vehicle={"category": "standard", "year": year - 10})
    assert (await client.post("/drivers", json=oldest_allowed, headers=headers)).status_code == 201


async def test_documents_and_plates_register_once(client):
    first = driver_body()
    _, headers = await auth_headers(client, user_type="driver")
    assert (await client.post("/drivers", json=first, headers=headers)).status_code == 201
    plate = first["vehicle"]["licensePlate"]
    duplicates = {
        "CPF_IN_USE": driver_body(cpf=first["cpf"]),
        "CNH_IN_USE": driver_body(cnhNumber=first["cnhNumber"]),
        "LICENSE_PLATE_IN_USE": driver_body(vehicle={"licensePlate": f"{plate[:3]}-{plate[3:].lower()}"}),
    }
    for error, body in duplicates.items():
        _, headers = await auth_headers(client, user_type="driver")
        answer = await client.post("/drivers", json=body, headers=headers)
        assert (answer.status_code, answer.json()["error"]) == (409, error)
    _, rider = await passenger(client)
    assert (await client.post("/drivers", json=driver_body(), headers=rider)).status_code == 403


async def test_admins_approve_or_reject_and_only_approved_drivers_go_online(app, client):
    admin_headers = await admin(app, client)
    ids = []
    for _ in range(2):
        _, headers = await auth_headers(client, user_type="driver")
        created = await client.post("/drivers", json=driver_body(), headers=headers)
        ids.append((created.json()["id"], headers))
    (approved_id, approved_headers), (rejected_id, rejected_headers) = ids

    pending = await client.get("/admin/drivers/pending?limit=50", headers=admin_headers)
    assert pending.status_code == 200
    assert {approved_id, rejected_id} <= {d["id"] for d in pending.json()["data"]}
    assert (await client.get("/admin/drivers/pending", headers=approved_headers)).status_code == 403

    early = await client.post(
        f"/drivers/{approved_id}/online", json={"online": True}, headers=approved_headers
    )
    assert early.status_code == 403 and early.json()["error"] == "DRIVER_NOT_APPROVED"

    approve = await client.post(f"/admin/drivers/{approved_id}/approve", headers=admin_headers)
    assert approve.status_code == 200 and approve.json()["approvalStatus"] == "APPROVED"
    twice = await client.post(f"/admin/drivers/{approved_id}/approve", headers=admin_headers)
    assert twice.status_code == 409 and twice.json()["error"] == "DRIVER_NOT_PENDING"
    reject = await client.post(
        f"/admin/drivers/{rejected_id}/reject", json={"reason": "CNH photo unreadable"}, headers=admin_headers
    )
    assert reject.status_code == 200
    assert (reject.json()["approvalStatus"], reject.json()["rejectionReason"]) == (
        "REJECTED",
        "CNH photo unreadable",
    )

    online = await client.post(
        f"/drivers/{approved_id}/online", json={"online": True}, headers=approved_headers
    )
    assert online.status_code == 200 and online.json()["status"] == "available"
    refused = await client.post(
        f"/drivers/{rejected_id}/online", json={"online": True}, headers=rejected_headers
    )
    assert refused.status_code == 403
    assert (
        await _scalar(
            app,
            "SELECT count(*) FROM audit_logs WHERE resource_id = :id"
            " AND action IN ('DRIVER_APPROVED','DRIVER_REJECTED')"
            " AND actor_id IS NOT NULL",
            id=approved_id,
        )
        == 1
    )
    assert await _scalar(app, "SELECT count(*) FROM outbox WHERE type = 'driver.rejected'") == 1


async def test_another_users_driver_id_is_404(app, client):
    _, headers = await auth_headers(client, user_type="driver")
    mine = (await client.post("/drivers", json=driver_body(), headers=headers)).json()["id"]
    _, intruder = await auth_headers(client, user_type="driver")
    await client.post("/drivers", json=driver_body(), headers=intruder)
    online = await client.post(f"/drivers/{mine}/online", json={"online": True}, headers=intruder)
    assert online.status_code == 404 and online.json()["error"] == "DRIVER_NOT_FOUND"
    located = await client.post(
        f"/drivers/{mine}/location",
        json={"lat": -23.56, "lon": -46.65, "recordedAt": datetime.now(UTC).isoformat()},
        headers=intruder,
    )
    assert located.status_code == 404


async def test_drivers_me_read_through_the_driver_answers_what_the_orm_routes_answer(app, client):
    """`GET /drivers/me` builds its answer from a row (`core.reader`); the write routes from the entities."""
    admin_headers = await admin(app, client)
    _, headers = await auth_headers(client, user_type="driver")
    created = (await client.post("/drivers", json=driver_body(), headers=headers)).json()
    assert (await client.get("/drivers/me", headers=headers)).json() == created
    await client.post(f"/admin/drivers/{created['id']}/approve", headers=admin_headers)
    online = await client.post(f"/drivers/{created['id']}/online", json={"online": True}, headers=headers)
    assert online.status_code == 200, online.text
    me = (await client.get("/drivers/me", headers=headers)).json()
    assert me == online.json() and (me["status"], me["approvalStatus"]) == ("available", "APPROVED")
    async with app.state.db.sessionmaker() as session:
        await session.execute(
            text("UPDATE vehicles SET status = 'inactive' WHERE driver_id = :d"), {"d": me["id"]}
        )
        await session.commit()
    without = (await client.get("/drivers/me", headers=headers)).json()
    assert without == {**me, "vehicle": None}
