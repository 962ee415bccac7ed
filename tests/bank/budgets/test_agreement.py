"""Budgets and analytics read one spending layer: a budget's `spent` is analytics' category spending for
the same period, for every source (card purchases less refunds, bills, transfers, a tagged transfer)."""

from __future__ import annotations

from tests.bank.budgets.support import bill_line, buy, created, customer_with_card
from tests.bank.card_network.support import change

PERIODS = ("WEEKLY", "MONTHLY", "ANNUAL")


async def test_budget_spent_is_analytics_category_spending(app, client) -> None:
    _, headers, card = await customer_with_card(app, client)
    recipient, _, _ = await customer_with_card(app, client)
    refunded = await buy(client, card, "120.00")
    await buy(client, card, "35.10")
    await change(client, refunded, "refund", {"amount": 20.00})
    paid = await client.post(
        "/api/bills/pay", json={"barcode": bill_line("42.00"), "amount": 42.00}, headers=headers
    )
    assert paid.status_code == 201, paid.text
    for amount in (15.00, 7.25):
        p2p = await client.post(
            "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": amount}, headers=headers
        )
        assert p2p.status_code == 201, p2p.text
    await client.patch(f"/api/transfers/{p2p.json()['id']}", json={"category": "LEISURE"}, headers=headers)
    for period in PERIODS:
        for category in ("FOOD", "BILLS", "TRANSFERS", "LEISURE", "HEALTH"):
            await created(client, headers, category=category, period=period, limit=1000.00)

    budgets = (await client.get("/api/budgets/summary", headers=headers)).json()["budgets"]
    for period in PERIODS:
        analytics = await client.get(f"/api/analytics/category-spending?period={period}", headers=headers)
        assert analytics.status_code == 200, analytics.text
        spent = {row["category"]: row["spent"] for row in analytics.json()["data"]}
        ours = {b["category"]: b["spent"] for b in budgets if b["period"] == period}
        assert ours == {c: spent.get(c, 0.0) for c in ours}, period
        assert ours == {"FOOD": 135.1, "BILLS": 42.0, "TRANSFERS": 15.0, "LEISURE": 7.25, "HEALTH": 0.0}
