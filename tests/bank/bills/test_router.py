"""Boletos over HTTP: validate, pay now, pay once, overdue, scheduled (job), list, receipt, ownership."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from laura.bank.bills import service as bills
from laura.bank.bills.barcode import build_bank_line, build_utility_line, parse_bill
from laura.bank.seed import demo_bill_lines
from laura.bank.transfers.calendar import BRASILIA
from tests.bank.support import balance, funded_customer


def _today() -> date:
    """Due dates and payment limits are Brasília calendar days (UTC is a day ahead from 21:00 there)."""
    return datetime.now(BRASILIA).date()


def _line(amount="154.50", days=10, free=None) -> str:
    return build_bank_line(
        "341", Decimal(amount), _today() + timedelta(days=days), free or f"{uuid.uuid4().int % 10**25:025d}"
    )


async def test_validate_bank_and_utility_slips(app, client):
    _, headers = await funded_customer(app, client)
    line = _line()
    ok = await client.post("/api/bills/validate", json={"barcode": line, "amount": 154.50}, headers=headers)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["valid"] and body["type"] == "BANK" and body["amount"] == 154.5 and body["bank"] == "341"
    assert body["recipient"] == body["bankName"] and body["dueDate"] == str(_today() + timedelta(days=10))
    utility = build_utility_line("3", Decimal("99.10"), "0123", f"{7:025d}")
    u = await client.post("/api/bills/validate", json={"barcode": utility}, headers=headers)
    assert (
        u.status_code == 200
        and u.json()["type"] == "UTILITY"
        and u.json()["recipient"] == "Energia elétrica e gás"
    )
    broken = line[:-1] + str((int(line[-1]) + 1) % 10)
    bad = await client.post("/api/bills/validate", json={"barcode": broken}, headers=headers)
    assert (
        bad.status_code == 400
        and bad.json()["error"] == "INVALID_BARCODE"
        and "check digit" in bad.json()["message"]
    )
    mismatch = await client.post("/api/bills/validate", json={"barcode": line, "amount": 10}, headers=headers)
    assert mismatch.status_code == 422 and mismatch.json()["error"] == "AMOUNT_MISMATCH"


async def test_registered_bill_names_its_recipient(app, client):
    _, headers = await funded_customer(app, client)
    line, registered = demo_bill_lines(_today())[0]
    async with app.state.db.unit_of_work() as session:
        await bills.register_bill(session, registered)
    response = await client.post("/api/bills/validate", json={"barcode": line}, headers=headers)
    assert response.json()["recipient"] == "Empresa XYZ Ltda"
    assert response.json()["paymentLimit"] == str(registered.payment_limit)


async def test_pay_debits_once_and_second_payment_is_409(app, client):
    _, headers = await funded_customer(app, client, "200.00")
    _, other = await funded_customer(app, client, "200.00")
    line = _line()
    paid = await client.post("/api/bills/pay", json={"barcode": line, "amount": 154.50}, headers=headers)
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert body["status"] == "COMPLETED" and body["amount"] == 154.5 and body["receipt"].startswith("REC")
    assert body["paidAt"].endswith("Z")
    assert await balance(client, headers) == Decimal("45.50")
    again = await client.post("/api/bills/pay", json={"barcode": line, "amount": 154.50}, headers=other)
    assert again.status_code == 409 and again.json()["error"] == "BILL_ALREADY_PAID"
    assert await balance(client, other) == Decimal("200.00")
    listed = await client.get("/api/bills", headers=headers)
    assert [p["id"] for p in listed.json()["data"]] == [body["id"]]
    pdf = await client.get(f"/api/bills/payments/{body['id']}/receipt", headers=headers)
    assert (
        pdf.status_code == 200
        and pdf.headers["content-type"] == "application/pdf"
        and pdf.content[:4] == b"%PDF"
    )
    assert (await client.get(f"/api/bills/payments/{body['id']}/receipt", headers=other)).status_code == 404
    async with app.state.db.engine.connect() as conn:
        clearing = await conn.scalar(
            text(
                "SELECT count(*) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id"
                " WHERE a.code = '1220' AND e.direction = 'C' AND e.amount = 15450"
            )
        )
    assert clearing == 1


async def test_pay_refusals(app, client):
    _, headers = await funded_customer(app, client, "10.00")
    broke = await client.post("/api/bills/pay", json={"barcode": _line(), "amount": 154.50}, headers=headers)
    assert broke.status_code == 402 and broke.json()["error"] == "INSUFFICIENT_BALANCE"
    overdue_line = _line("5.00", days=-60)
    overdue = await client.post(
        "/api/bills/pay", json={"barcode": overdue_line, "amount": 5}, headers=headers
    )
    assert overdue.status_code == 402 and overdue.json()["error"] == "BILL_OVERDUE"
    late_ok = await client.post(
        "/api/bills/pay", json={"barcode": _line("5.00", days=-59), "amount": 5}, headers=headers
    )
    assert late_ok.status_code == 201
    mismatch = await client.post("/api/bills/pay", json={"barcode": _line(), "amount": 1}, headers=headers)
    assert mismatch.status_code == 422 and mismatch.json()["error"] == "AMOUNT_MISMATCH"
    past = await client.post(
        "/api/bills/pay",
        json={"barcode": _line("1.00"), "amount": 1, "paymentDate": "2020-01-01"},
        headers=headers,
    )
    assert past.status_code == 422
    assert await balance(client, headers) == Decimal("5.00")


async def test_a_payment_date_beyond_the_horizon_is_a_422_and_queues_nothing(app, client, settings):
    _, headers = await funded_customer(app, client, "100.00")
    horizon = settings.schedule_max_days
    utility = build_utility_line(
        "3", Decimal("9.10"), "0123", f"{uuid.uuid4().int % 10**25:025d}"
    )  # no due date
    far_bank_slip = _line("5.00", days=horizon + 30)
    for line, amount, when in (
        (utility, 9.10, "9999-12-31"),
        (far_bank_slip, 5, str(_today() + timedelta(days=horizon + 1))),
    ):
        refused = await client.post(
            "/api/bills/pay", json={"barcode": line, "amount": amount, "paymentDate": when}, headers=headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["details"] == [
            {"field": "paymentDate", "message": f"at most {horizon} days ahead"}
        ]
    async with app.state.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs")) == 0
        assert await conn.scalar(text("SELECT count(*) FROM bill_payments")) == 0
    inside = await client.post(
        "/api/bills/pay",
        json={"barcode": far_bank_slip, "amount": 5, "paymentDate": str(_today() + timedelta(days=horizon))},
        headers=headers,
    )
    assert inside.status_code == 201 and inside.json()["status"] == "SCHEDULED"


async def test_scheduled_payment_is_paid_by_the_job_or_fails(app, client):
    user, headers = await funded_customer(app, client, "100.00")
    when = str(_today() + timedelta(days=3))
    lines = [_line("60.00"), _line("50.00")]
    ids = []
    for line, amount in zip(lines, (60, 50)):
        response = await client.post(
            "/api/bills/pay", json={"barcode": line, "amount": amount, "paymentDate": when}, headers=headers
        )
        assert response.status_code == 201 and response.json()["status"] == "SCHEDULED"
        assert response.json()["paidAt"] is None
        ids.append(response.json()["id"])
    assert await balance(client, headers) == Decimal("100.00")
    async with app.state.db.engine.connect() as conn:
        jobs = (
            await conn.execute(text("SELECT task_name, args, scheduled_at FROM procrastinate_jobs"))
        ).all()
    assert sorted(j.args["payment_id"] for j in jobs) == sorted(ids)
    assert all(j.task_name == "bank.pay_scheduled_bill" for j in jobs)
    for payment_id in ids:
        async with app.state.db.unit_of_work() as session:
            await bills.pay_scheduled(session, uuid.UUID(payment_id), redis_url=None)
    statuses = {p["id"]: p for p in (await client.get("/api/bills", headers=headers)).json()["data"]}
    assert statuses[ids[0]]["status"] == "COMPLETED"
    assert statuses[ids[1]]["status"] == "FAILED" and statuses[ids[1]]["failureReason"]
    assert await balance(client, headers) == Decimal("40.00")
    async with app.state.db.engine.connect() as conn:
        failed_event = await conn.scalar(
            text("SELECT count(*) FROM outbox WHERE type = 'bill.failed' AND :uid = ANY(user_ids)"),
            {"uid": uuid.UUID(user["id"])},
        )
    assert failed_event == 1
    # the failed slip can be paid again
    retry = await client.post("/api/bills/pay", json={"barcode": lines[1], "amount": 40}, headers=headers)
    assert retry.status_code == 422  # amount must match the slip
    assert parse_bill(lines[1]).amount == Decimal("50.00")
