"""A ride flagged as it completed (here: a fare over the maximum) is paid like any other, but the driver's
share is held for review on the ledger (hold 'fraud-hold:<ride>', D 2100.<driver> / C 2110) instead of
made available; clearing the flag releases it, confirming posts it to 2110. An honest ride holds nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text

from laura.ledger import service as ledger
from tests.mobility.fraud.conftest import FAR
from tests.mobility.fraud.support import drive, flags_of
from tests.mobility.payments.support import rows, run_charge_jobs
from tests.mobility.support import IBIRAPUERA, PAULISTA, admin, driver, passenger
from tests.pix.conftest import WEBHOOK_SECRET, settings  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url  # noqa: F401

SIGNED = f"/webhooks/efi/pix?hmac={WEBHOOK_SECRET}&ignorar=/pix"


async def _paid_ride(app, client, control, dropoff) -> tuple[dict, dict, dict, int]:
    """(ride, driver handle, admin headers, the driver's share in cents), the ride paid by Pix."""
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)
    _, rider = await passenger(client)
    ride = await drive(client, handle, rider, PAULISTA, dropoff)
    assert await run_charge_jobs(app) == ["charged"]
    txid = (await client.get(f"/rides/{ride['id']}/payment", headers=rider)).json()["txid"]
    entry = (await control.post(f"/sandbox/cob/{txid}/pay")).json()
    paid = await client.post(SIGNED, json={"pix": [entry]})
    assert paid.status_code == 200 and paid.json()["outcome"] == "applied", paid.text
    ((fare, commission),) = await rows(app, "SELECT amount_cents, commission_cents FROM payment_intents")
    return ride, handle, admin_headers, fare - commission


async def _books(app, driver_id: str) -> dict:
    async with app.state.db.sessionmaker() as session:
        payable = await ledger.balance(session, f"2100.{driver_id}")
        review = await ledger.balance(session, "2110")
    return {"2100": (payable.posted, payable.available), "2110": (review.posted, review.pending)}


async def _hold(app, ride_id: str) -> list:
    return await rows(
        app,
        "SELECT t.reason, h.status, t.amount FROM ledger_transactions t JOIN ledger_holds h"
        " ON h.transaction_id = t.id WHERE t.reference = :r",
        r=f"fraud-hold:{ride_id}",
    )


async def test_an_honest_ride_holds_nothing(app, client: httpx.AsyncClient, control: httpx.AsyncClient):
    ride, handle, _, share = await _paid_ride(app, client, control, IBIRAPUERA)

    assert await _hold(app, ride["id"]) == []
    assert await _books(app, handle.id) == {"2100": (share, share), "2110": (0, 0)}


@pytest.mark.parametrize(
    "decision, hold, books",
    [
        ("cleared", "voided", lambda share: {"2100": (share, share), "2110": (0, 0)}),
        ("confirmed", "posted", lambda share: {"2100": (0, 0), "2110": (share, 0)}),
    ],
)
async def test_a_flagged_rides_share_is_held_until_the_review_decides(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient, decision, hold, books
):
    ride, handle, admin_headers, share = await _paid_ride(app, client, control, FAR)

    assert await _hold(app, ride["id"]) == [("FRAUD_REVIEW", "pending", share)]
    assert await _books(app, handle.id) == {"2100": (share, 0), "2110": (0, share)}
    assert (await client.get(f"/rides/{ride['id']}", headers=handle.headers)).json()["status"] == "PAID"

    (flag,) = await flags_of(client, admin_headers, handle.user["id"])
    resolved = await client.post(
        f"/admin/fraud/flags/{flag['id']}/resolve",
        json={"note": "checked the trip", "decision": decision},
        headers=admin_headers,
    )

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["decision"] == decision
    assert await _hold(app, ride["id"]) == [("FRAUD_REVIEW", hold, share)]
    assert await _books(app, handle.id) == books(share)
    (audited,) = await rows(
        app, "SELECT new_values ->> 'heldShare' FROM audit_logs WHERE resource_id = :f", f=flag["id"]
    )
    assert audited == (hold,)


async def test_concurrent_resolves_release_the_share_once(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
):
    ride, handle, admin_headers, share = await _paid_ride(app, client, control, FAR)
    (flag,) = await flags_of(client, admin_headers, handle.user["id"])

    answers = await asyncio.gather(
        *(
            client.post(
                f"/admin/fraud/flags/{flag['id']}/resolve", json={"note": "ok"}, headers=admin_headers
            )
            for _ in range(4)
        )
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    assert await _hold(app, ride["id"]) == [("FRAUD_REVIEW", "voided", share)]
    assert await _books(app, handle.id) == {"2100": (share, share), "2110": (0, 0)}


@pytest.mark.parametrize("decision", ["cleared", "confirmed"])
async def test_a_flag_resolved_before_the_payment_decides_at_payment(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient, decision
):
    """Cleared: the share is paid out as usual, no hold. Confirmed: held and posted to 2110 at once."""
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)
    _, rider = await passenger(client)
    ride = await drive(client, handle, rider, PAULISTA, FAR)
    (flag,) = await flags_of(client, admin_headers, handle.user["id"])
    resolved = await client.post(
        f"/admin/fraud/flags/{flag['id']}/resolve",
        json={"note": "reviewed early", "decision": decision},
        headers=admin_headers,
    )
    assert resolved.status_code == 200 and resolved.json()["decision"] == decision
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride['id']}/payment", headers=rider)).json()["txid"]
    entry = (await control.post(f"/sandbox/cob/{txid}/pay")).json()

    assert (await client.post(SIGNED, json={"pix": [entry]})).json()["outcome"] == "applied"

    ((fare, commission),) = await rows(app, "SELECT amount_cents, commission_cents FROM payment_intents")
    share = fare - commission
    if decision == "cleared":
        assert await _hold(app, ride["id"]) == []
        assert await _books(app, handle.id) == {"2100": (share, share), "2110": (0, 0)}
    else:
        assert await _hold(app, ride["id"]) == [("FRAUD_REVIEW", "posted", share)]
        assert await _books(app, handle.id) == {"2100": (0, 0), "2110": (share, 0)}


async def test_a_ride_with_two_holding_flags_is_released_when_both_are_cleared(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)
    _, rider = await passenger(client)
    ride = await drive(client, handle, rider, PAULISTA, FAR)
    async with app.state.db.engine.begin() as conn:  # the same ride also judged a long route
        await conn.execute(
            text(
                "INSERT INTO fraud_flags (id, subject_user_id, rule, day, ride_id)"
                " VALUES (gen_random_uuid(), :u, 'long_route', current_date, :r)"
            ),
            {"u": handle.user["id"], "r": ride["id"]},
        )
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride['id']}/payment", headers=rider)).json()["txid"]
    entry = (await control.post(f"/sandbox/cob/{txid}/pay")).json()
    assert (await client.post(SIGNED, json={"pix": [entry]})).json()["outcome"] == "applied"
    ((fare, commission),) = await rows(app, "SELECT amount_cents, commission_cents FROM payment_intents")
    share = fare - commission
    flags = {f["rule"]: f["id"] for f in await flags_of(client, admin_headers, handle.user["id"])}

    first = await client.post(
        f"/admin/fraud/flags/{flags['max_fare']}/resolve", json={"note": "fare ok"}, headers=admin_headers
    )
    assert first.status_code == 200
    assert await _hold(app, ride["id"]) == [("FRAUD_REVIEW", "pending", share)]
    second = await client.post(
        f"/admin/fraud/flags/{flags['long_route']}/resolve", json={"note": "route ok"}, headers=admin_headers
    )
    assert second.status_code == 200
    assert await _hold(app, ride["id"]) == [("FRAUD_REVIEW", "voided", share)]
    assert await _books(app, handle.id) == {"2100": (share, share), "2110": (0, 0)}
