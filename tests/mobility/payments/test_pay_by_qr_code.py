"""A Laura bank customer pays a ride's Pix copy-and-paste code from their account (POST /api/transfers/pix with
its dynamic BR Code): the charge is ours, so it is an internal Pix settled at once through the same path as
pay-from-account; a dynamic code of another institution is still refused."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx

from laura.bank.seed import fund_customer
from laura.pix.brcode import build_brcode
from tests.helpers import auth_headers
from tests.mobility.payments.support import balances, completed_ride, rows, run_charge_jobs
from tests.pix.conftest import db, settings  # noqa: F401
from tests.pix.sandbox.fixtures import sandbox_server, sandbox_url  # noqa: F401


async def funded_customer(app, client: httpx.AsyncClient, funds: Decimal) -> tuple[dict, dict]:
    user, headers = await auth_headers(client)
    async with app.state.db.unit_of_work() as session:
        await fund_customer(session, uuid.UUID(user["id"]), funds, reference=f"funding:{user['id']}")
    return user, headers


def pay_code(client: httpx.AsyncClient, headers: dict, body: dict):
    return client.post(
        "/api/transfers/pix", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )


async def test_a_customer_pays_the_rides_qr_code_from_their_account(app, client: httpx.AsyncClient) -> None:
    ride = await completed_ride(app, client)
    assert await run_charge_jobs(app) == ["charged"]
    payment = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    customer, headers = await funded_customer(app, client, Decimal("50.00"))
    fare = round(ride.fare * 100)
    commission = (fare * 20 + 50) // 100

    answer = await pay_code(client, headers, {"brCode": payment["pixCopiaECola"]})

    assert answer.status_code == 201, answer.text
    transfer = answer.json()
    assert transfer["status"] == "COMPLETED" and transfer["amount"] == ride.fare
    assert transfer["e2eId"].startswith("E99999999") and transfer["description"] == "Corrida Laura"
    assert (await client.get(f"/rides/{ride.id}", headers=ride.rider)).json()["status"] == "PAID"
    paid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()
    assert paid["status"] == "CONFIRMED" and paid["e2eId"] == transfer["e2eId"]
    assert await balances(app) == {
        "1300": 0,
        "4100": 0,
        "4200": commission,
        f"2100.{ride.driver.id}": fare - commission,
    }
    account = (await client.get("/api/accounts/me", headers=headers)).json()
    assert account["balance"] == float(Decimal("50.00") - Decimal(fare) / 100)
    assert await rows(app, "SELECT source, status FROM financial_events") == [("internal", "applied")]
    assert await rows(app, "SELECT user_id FROM transfers") == [(uuid.UUID(customer["id"]),)]

    again = await pay_code(client, headers, {"brCode": payment["pixCopiaECola"]})
    assert again.status_code == 409 and again.json()["error"] == "PIX_CHARGE_NOT_ACTIVE"


async def test_a_code_of_another_amount_a_scheduled_one_and_a_foreign_one_are_refused(
    app, client: httpx.AsyncClient
) -> None:
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    code = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["pixCopiaECola"]
    _, headers = await funded_customer(app, client, Decimal("50.00"))

    other_amount = await pay_code(client, headers, {"brCode": code, "amount": ride.fare + 1})
    assert other_amount.status_code == 422 and other_amount.json()["error"] == "AMOUNT_MISMATCH"
    later = await pay_code(client, headers, {"brCode": code, "scheduledFor": "2099-01-01T12:00:00Z"})
    assert later.status_code == 422 and later.json()["error"] == "VALIDATION_ERROR"
    foreign = build_brcode(
        location="pix.example.com/qr/v2/abc123", merchant_name="LOJA", merchant_city="SAO PAULO"
    )
    refused = await pay_code(client, headers, {"brCode": foreign})
    assert refused.status_code == 422 and refused.json()["error"] == "DYNAMIC_BR_CODE_UNSUPPORTED"

    assert await rows(app, "SELECT count(*) FROM transfers") == [(0,)]
    assert await rows(app, "SELECT status FROM pix_charges") == [("ACTIVE",)]
