"""The report's refunds owed and made agree with the ledger: a ride paid, then paid twice more (owed back),
one of those refunded by ops; 1300 and 2300 as the trial balance has them."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from laura.ledger import service as ledger
from tests.mobility.finance.support import paid_by_webhook
from tests.mobility.finance.test_report import all_time, cents
from tests.mobility.support import admin
from tests.pix.conftest import db, settings  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url  # noqa: F401
from tests.sql_support import call

CONTEXT = json.dumps({"chain": 3, "ip": None, "user_agent": "psp", "request_id": "req-refund"})


async def test_refunds_due_and_made_in_the_report_equal_the_trial_balance(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    ride = await paid_by_webhook(app, client, control)
    txid = (await client.get(f"/rides/{ride.id}/payment", headers=ride.rider)).json()["txid"]
    fare = round(ride.fare * 100)
    for _ in range(2):
        e2e = "E" + secrets.token_hex(15)[:31]
        await call(
            app.state.db,
            "pix_apply_received",
            txid=txid,
            e2e_id=e2e,
            amount_cents=fare,
            occurred_at=datetime.now(UTC),
            payload=json.dumps({"endToEndId": e2e, "txid": txid, "valor": f"{ride.fare:.2f}"}),
            source="webhook",
            delivery_id=None,
            context=CONTEXT,
        )
    headers = await admin(app, client)
    owed = (await client.get("/admin/payments/refunds?status=OPEN", headers=headers)).json()["data"]
    refunded = await client.post(
        f"/admin/payments/refunds/{owed[0]['id']}/resolve", json={"note": "devolvido"}, headers=headers
    )
    assert refunded.status_code == 200, refunded.text

    totals = (await all_time(app, client, headers, groupBy="day")).json()["totals"]

    assert totals["ridesPaid"] == 1 and cents(totals["grossRideRevenue"]) == fare
    assert totals["refundsDue"] == {"count": 2, "amount": f"{Decimal(2 * fare) / 100:.2f}"}
    assert totals["refundsMade"] == {"count": 1, "amount": f"{ride.fare:.2f}"}
    async with app.state.db.unit_of_work() as session:
        balance = await ledger.trial_balance(session)
    books = {r.account.code: r.debits_cents - r.credits_cents for r in balance.rows}
    due, made = cents(totals["refundsDue"]["amount"]), cents(totals["refundsMade"]["amount"])
    assert books["1300"] == cents(totals["grossRideRevenue"]) + due - made == 2 * fare
    assert books["2300"] == -(due - made) == -fare
