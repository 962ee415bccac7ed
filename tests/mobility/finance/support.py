"""Rides and cancellation fees paid over HTTP (tests/mobility/payments/support.py: by webhook or from a Laura
account), and the contract-shaped postings the payouts and fraud flows make, written straight with
laura.ledger.service: payouts (a 'PAYOUT' hold posted, voided or left pending) and shares held for fraud
review; `paid_fee` books a fee and its split the same way, for figures of chosen amounts."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import httpx

from laura.ledger import service as ledger
from tests.mobility.payments.support import (
    CanceledRide,
    CompletedRide,
    canceled_with_fee,
    completed_ride,
    open_account,
    run_charge_jobs,
)
from tests.pix.conftest import WEBHOOK_SECRET

SIGNED = f"/webhooks/efi/pix?hmac={WEBHOOK_SECRET}&ignorar=/pix"


async def charged_ride(app, client: httpx.AsyncClient) -> tuple[CompletedRide, str]:
    """A completed ride with its live charge at the sandbox; (ride, txid)."""
    ride = await completed_ride(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    return ride, txid


async def paid_by_webhook(app, client: httpx.AsyncClient, control: httpx.AsyncClient) -> CompletedRide:
    """A ride the passenger paid at the sandbox, its webhook delivered to the intake."""
    ride, txid = await charged_ride(app, client)
    entry = (await control.post(f"/sandbox/cob/{txid}/pay")).json()
    delivered = await client.post(SIGNED, content=json.dumps({"pix": [entry]}))
    assert delivered.json()["outcome"] == "applied", delivered.text
    return ride


async def fee_paid_by_webhook(app, client: httpx.AsyncClient, control: httpx.AsyncClient) -> CanceledRide:
    """A ride canceled with its fee (5.00), the fee's charge paid at the sandbox and its webhook delivered."""
    ride = await canceled_with_fee(app, client)
    await run_charge_jobs(app)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    entry = (await control.post(f"/sandbox/cob/{txid}/pay")).json()
    delivered = await client.post(SIGNED, content=json.dumps({"pix": [entry]}))
    assert delivered.json()["outcome"] == "applied", delivered.text
    return ride


async def paid_from_account(app, client: httpx.AsyncClient, funds: Decimal) -> CompletedRide:
    """A ride its passenger paid from a Laura account opened with `funds`."""
    ride, _ = await charged_ride(app, client)
    await open_account(app, ride.rider_user["id"], funds)
    intent = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["id"]
    paid = await client.post(f"/payments/{intent}/pay-from-account", headers=ride.rider)
    assert paid.status_code == 200, paid.text
    return ride


async def paid_fee(app, driver_id: str, *, cents: int, commission: int) -> None:
    """A cancellation fee paid, as the payments helper's flow books it."""
    txid = uuid.uuid4().hex
    async with app.state.db.unit_of_work() as session:
        await ledger.post(
            session,
            [("1300", "D", cents), ("4100", "C", cents)],
            reference=f"fee:{txid}",
            reason="CANCELLATION_FEE",
        )
        await ledger.post(
            session,
            [("4100", "D", cents), ("4200", "C", commission), (f"2100.{driver_id}", "C", cents - commission)],
            reference=f"fee-split:{txid}",
            reason="CANCELLATION_FEE_SPLIT",
        )


async def payout(app, driver_id: str, *, cents: int, outcome: str) -> None:
    """A payout as the payouts helper's flow books it: a 'PAYOUT' hold, then posted ('completed'), voided
    ('failed') or left pending."""
    payout_id = uuid.uuid4()
    reference = f"payout:{payout_id}"
    async with app.state.db.unit_of_work() as session:
        await ledger.hold(
            session,
            [(f"2100.{driver_id}", "D", cents), ("1100", "C", cents)],
            reference=reference,
            reason="PAYOUT",
        )
    if outcome == "pending":
        return
    async with app.state.db.unit_of_work() as session:
        if outcome == "completed":
            await ledger.post_hold(session, reference, reference=f"{reference}:settled")
        else:
            await ledger.void_hold(session, reference)


async def fraud_hold(app, driver_id: str, *, cents: int, confirmed: bool) -> None:
    """A driver's share held for review as the fraud flow books it ('FRAUD_REVIEW' hold to 2110), posted when
    an admin confirms the fraud."""
    reference = f"fraud-hold:{uuid.uuid4()}"
    async with app.state.db.unit_of_work() as session:
        await ledger.hold(
            session,
            [(f"2100.{driver_id}", "D", cents), ("2110", "C", cents)],
            reference=reference,
            reason="FRAUD_REVIEW",
        )
        if confirmed:
            await ledger.post_hold(session, reference, reference=f"{reference}:confirmed")
