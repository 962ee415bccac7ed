"""Threshold alerts: one `budget.threshold_reached` per budget, threshold and period, published by the
check job after the purchase that crossed it committed, whatever the concurrency; again next period."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from laura.bank.budgets import alerts as budget_alerts
from laura.core.jobs import JobRuntime, bind_runtime
from laura.core.models import utcnow
from tests.bank.budgets.support import (
    alerts,
    bill_line,
    buy,
    created,
    customer_with_card,
    pending_checks,
    run_checks,
)
from tests.bank.card_network.support import authorize, change, purchase
from tests.bank.support import funded_customer
from tests.sql_support import rows, scalar


async def test_concurrent_captures_crossing_thresholds_alert_each_once(app, client, settings) -> None:
    user, headers, card = await customer_with_card(app, client)
    budget = await created(client, headers, limit=100.00)
    await run_checks(app, settings)  # the creation's check: nothing reached
    approved = [await authorize(client, purchase(card, "20.00", merchant=_food())) for _ in range(4)]

    captured = await asyncio.gather(*(change(client, a["authorizationId"], "capture") for a in approved))

    assert [c.status_code for c in captured] == [200] * 4
    assert await alerts(app) == []  # nothing before the check runs, after the purchases committed
    assert await pending_checks(app) == 1  # four captures, one waiting check
    await run_checks(app, settings)
    sent = await alerts(app, user["id"])
    assert sorted(a["threshold"] for a in sent) == [50, 75]
    assert all(a["budgetId"] == budget["id"] and a["category"] == "FOOD" for a in sent)
    assert all(a["limit"] == "100.00" and a["spent"] == "80.00" for a in sent)

    await buy(client, card, "10.00")
    await run_checks(app, settings)
    assert sorted(a["threshold"] for a in await alerts(app, user["id"])) == [50, 75, 90]
    await buy(client, card, "1.00")
    await run_checks(app, settings)
    assert len(await alerts(app, user["id"])) == 3


async def test_checks_running_together_alert_once(app, client, settings) -> None:
    user, headers, card = await customer_with_card(app, client)
    await created(client, headers, limit=100.00)
    await buy(client, card, "95.00")

    async def check() -> list:
        async with app.state.db.unit_of_work() as session:
            return await budget_alerts.check(session, uuid.UUID(user["id"]), utcnow())

    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        results = await asyncio.gather(*(check() for _ in range(6)))

    assert sorted(len(r) for r in results) == [0] * 5 + [3]
    assert sorted(a["threshold"] for a in await alerts(app, user["id"])) == [50, 75, 90]
    recorded = await rows(app.state.db, "SELECT threshold, spent_cents FROM budget_alerts ORDER BY threshold")
    assert recorded == [(50, 95_00), (75, 95_00), (90, 95_00)]


async def test_the_alerts_come_again_next_period(app, client, settings) -> None:
    user, headers, card = await customer_with_card(app, client)
    await created(client, headers, limit=100.00, period="WEEKLY")
    await buy(client, card, "60.00")
    await run_checks(app, settings)
    assert [a["threshold"] for a in await alerts(app, user["id"])] == [50]
    # all of that was last week: the purchase, the budget's start and its alert
    for sql in (
        "UPDATE card_transactions SET created_at = created_at - interval '7 days'",
        "UPDATE budgets SET start_date = start_date - 7",
        "UPDATE budget_alerts SET period_start = period_start - 7",
    ):
        await scalar(app.state.db, sql)

    fresh = (await client.get("/api/budgets", headers=headers)).json()["data"][0]
    assert (fresh["spent"], fresh["status"]) == (0.0, "SAFE")
    await buy(client, card, "55.00")
    await run_checks(app, settings)

    sent = await alerts(app, user["id"])
    assert [a["threshold"] for a in sent] == [50, 50] and sent[1]["periodStart"] == fresh["periodStart"]
    recorded = await rows(app.state.db, "SELECT period_start, threshold FROM budget_alerts ORDER BY 1")
    this_week = date.fromisoformat(fresh["periodStart"])
    assert recorded == [(this_week - timedelta(days=7), 50), (this_week, 50)]


async def test_other_categories_and_customers_without_budgets_alert_nothing(app, client, settings) -> None:
    _, headers, card = await customer_with_card(app, client)
    await created(client, headers, category="TRAVEL", limit=10.00)
    await run_checks(app, settings)
    await buy(client, card, "50.00")  # FOOD
    _, _, other_card = await customer_with_card(app, client)
    await buy(client, other_card, "50.00")  # a customer with no budget: no check at all

    assert await pending_checks(app) == 1
    await run_checks(app, settings)
    assert await alerts(app) == []


async def test_a_deleted_budget_alerts_nothing_and_keeps_its_alerts(app, client, settings) -> None:
    user, headers, card = await customer_with_card(app, client)
    budget = await created(client, headers, limit=100.00)
    await buy(client, card, "50.00")
    await run_checks(app, settings)
    assert len(await alerts(app, user["id"])) == 1

    await client.delete(f"/api/budgets/{budget['id']}", headers=headers)
    await buy(client, card, "45.00")
    await run_checks(app, settings)

    assert len(await alerts(app, user["id"])) == 1
    assert await scalar(app.state.db, "SELECT count(*) FROM budget_alerts") == 1


async def test_lowering_the_limit_alerts_what_it_reaches(app, client, settings) -> None:
    user, headers, card = await customer_with_card(app, client)
    budget = await created(client, headers, limit=1000.00)
    await buy(client, card, "80.00")
    await run_checks(app, settings)
    assert await alerts(app) == []

    await client.patch(f"/api/budgets/{budget['id']}", json={"limit": 100.00}, headers=headers)
    await run_checks(app, settings)

    assert sorted(a["threshold"] for a in await alerts(app, user["id"])) == [50, 75]


async def test_bills_and_transfers_count_and_alert(app, client, settings) -> None:
    user, headers = await funded_customer(app, client, "1000.00")
    await created(client, headers, category="BILLS", limit=100.00)
    await created(client, headers, category="TRANSFERS", limit=100.00)
    _, recipient = await funded_customer(app, client)
    key = f"pix-{uuid.uuid4().hex[:8]}@example.com"
    await client.post("/api/pix-keys", json={"type": "EMAIL", "key": key}, headers=recipient)

    pix = await client.post("/api/transfers/pix", json={"pixKey": key, "amount": 75.00}, headers=headers)
    assert pix.status_code == 201 and pix.json()["status"] == "COMPLETED", pix.text
    paid = await client.post(
        "/api/bills/pay", json={"barcode": bill_line("92.00"), "amount": 92.00}, headers=headers
    )
    assert paid.status_code == 201, paid.text
    await run_checks(app, settings)

    sent = {(a["category"], a["threshold"]) for a in await alerts(app, user["id"])}
    assert sent == {("TRANSFERS", 50), ("TRANSFERS", 75), ("BILLS", 50), ("BILLS", 75), ("BILLS", 90)}
    summary = (await client.get("/api/budgets/summary", headers=headers)).json()
    assert {b["category"]: b["spent"] for b in summary["budgets"]} == {"BILLS": 92.0, "TRANSFERS": 75.0}


def _food() -> dict:
    return {"name": "Restaurante Sabor", "mcc": "5812", "city": "São Paulo", "country": "BR"}


async def test_a_p2p_transfer_enqueues_its_check_in_its_own_statement(app, client, settings) -> None:
    user, headers = await funded_customer(app, client, "1000.00")
    recipient, _ = await funded_customer(app, client)
    budget = await created(client, headers, category="TRANSFERS", limit=100.00)
    await run_checks(app, settings)

    sent = await client.post(
        "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": 60.00}, headers=headers
    )

    assert sent.status_code == 201, sent.text
    assert await pending_checks(app) == 1
    await run_checks(app, settings)
    [alert] = await alerts(app, user["id"])
    assert (alert["budgetId"], alert["threshold"], alert["spent"]) == (budget["id"], 50, "60.00")


async def test_tagging_a_transfer_moves_its_spending_and_checks_the_new_category(
    app, client, settings
) -> None:
    user, headers = await funded_customer(app, client, "1000.00")
    recipient, _ = await funded_customer(app, client)
    await created(client, headers, category="EDUCATION", limit=100.00)
    sent = await client.post(
        "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": 80.00}, headers=headers
    )
    await run_checks(app, settings)
    assert await alerts(app) == []

    tagged = await client.patch(
        f"/api/transfers/{sent.json()['id']}", json={"category": "EDUCATION"}, headers=headers
    )
    assert tagged.status_code == 200, tagged.text
    await run_checks(app, settings)

    assert sorted(a["threshold"] for a in await alerts(app, user["id"])) == [50, 75]
    [item] = (await client.get("/api/budgets/summary", headers=headers)).json()["budgets"]
    assert (item["spent"], item["status"]) == (80.0, "WARNING")
