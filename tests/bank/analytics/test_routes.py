"""Analytics over HTTP from purchases made through the card network, bills paid and transfers sent: each
route, the CUSTOM window's rules, quiet days, the summary's income, and only the caller's own money."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from laura.bank.spending.windows import Period, period_window
from laura.bank.transfers.calendar import BRASILIA, brasilia_day
from laura.core.models import utcnow
from tests.bank.card_network.support import make_card
from tests.bank.spending.support import bought, by_category, moved, paid_bill, sent
from tests.bank.support import funded_customer


def _at_noon(days_ago: int) -> datetime:
    """Noon, Brasília time, `days_ago` days before today there."""
    day = brasilia_day(utcnow()) - timedelta(days=days_ago)
    return datetime.combine(day, time(12), tzinfo=BRASILIA).astimezone(UTC)


async def _spender(app, client):
    """A customer who bought food (80 + 20) and clothes (100, 30 refunded), paid a bill and sent 10."""
    user, headers = await funded_customer(app, client, "2000.00")
    friend, friend_headers = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])
    await bought(client, card, "80.00", merchant="Padaria Real")
    await bought(client, card, "20.00", merchant="Mercado Bom")
    await bought(client, card, "100.00", category="SHOPPING", merchant="Loja Azul", refund="30.00")
    await paid_bill(client, headers, "154.50")
    await sent(client, headers, friend["id"], "10.00")
    return user, headers, friend, friend_headers, card


async def test_category_spending_this_month(app, client) -> None:
    user, headers, _friend, friend_headers, _card = await _spender(app, client)

    answer = await client.get("/api/analytics/category-spending", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {
        "data": [
            {"category": "BILLS", "spent": 154.5, "percentageOfTotal": 46, "transactionCount": 1},
            {"category": "FOOD", "spent": 100.0, "percentageOfTotal": 30, "transactionCount": 2},
            {"category": "SHOPPING", "spent": 70.0, "percentageOfTotal": 21, "transactionCount": 1},
            {"category": "TRANSFERS", "spent": 10.0, "percentageOfTotal": 3, "transactionCount": 1},
        ],
        "total": 334.5,
        "period": period_window(Period.MONTHLY, utcnow()).label,
    }
    # the same figures the spending layer (and so budgets) answers
    layer = await by_category(app, user["id"], period_window(Period.MONTHLY, utcnow()))
    assert {d["category"]: round(d["spent"] * 100) for d in body["data"]} == {
        k: v[0] for k, v in layer.items()
    }
    # the friend spent nothing: the customer's money is not theirs to see
    theirs = await client.get("/api/analytics/category-spending?period=ANNUAL", headers=friend_headers)
    assert theirs.json()["data"] == [] and theirs.json()["total"] == 0
    for period in ("WEEKLY", "ANNUAL"):
        ok = await client.get(f"/api/analytics/category-spending?period={period}", headers=headers)
        assert ok.json()["period"] == period_window(Period(period), utcnow()).label
    assert (await client.get("/api/analytics/category-spending")).status_code == 401


async def test_a_custom_window_and_its_rules(app, client) -> None:
    user, headers = await funded_customer(app, client, "500.00")
    card = await make_card(app, user["id"])
    old = await bought(client, card, "42.00", category="TRANSPORT")
    await moved(app, "card_transactions", old, datetime(2026, 1, 10, 15, tzinfo=UTC))
    url = "/api/analytics/category-spending?period=CUSTOM"

    custom = await client.get(f"{url}&from=2026-01-01&to=2026-01-31", headers=headers)
    assert custom.status_code == 200, custom.text
    assert custom.json() == {
        "data": [{"category": "TRANSPORT", "spent": 42.0, "percentageOfTotal": 100, "transactionCount": 1}],
        "total": 42.0,
        "period": "2026-01-01_2026-01-31",
    }
    whole_year = await client.get(f"{url}&from=2025-02-01&to=2026-02-01", headers=headers)
    assert whole_year.status_code == 200 and whole_year.json()["total"] == 42.0
    for query in (
        "",
        "&from=2026-01-01",
        "&to=2026-01-31",
        "&from=2026-01-31&to=2026-01-01",
        "&from=2025-01-01&to=2026-01-02",  # 367 days
        "&from=2026-02-30&to=2026-03-01",
    ):
        refused = await client.get(url + query, headers=headers)
        assert refused.status_code == 422, (query, refused.text)
        assert refused.json()["error"] == "VALIDATION_ERROR"
    for query in ("?period=DAILY", "?period=MONTHLY&from=2026-01-01"):
        refused = await client.get(f"/api/analytics/category-spending{query}", headers=headers)
        assert refused.status_code == 422, (query, refused.text)


async def test_spending_trends_has_every_day_quiet_ones_at_zero(app, client) -> None:
    user, headers = await funded_customer(app, client, "500.00")
    friend, _ = await funded_customer(app, client)
    card = await make_card(app, user["id"])
    await moved(app, "card_transactions", await bought(client, card, "15.00"), _at_noon(1))
    await moved(app, "card_transactions", await bought(client, card, "5.50"), _at_noon(1))
    await moved(app, "card_transactions", await bought(client, card, "99.00"), _at_noon(3))  # outside 3 days
    await moved(app, "transfers", await sent(client, headers, friend["id"], "7.25"), _at_noon(0))
    today = brasilia_day(utcnow())

    answer = await client.get("/api/analytics/spending-trends?days=3", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "data": [
            {"date": str(today - timedelta(days=2)), "amount": 0.0},
            {"date": str(today - timedelta(days=1)), "amount": 20.5},
            {"date": str(today), "amount": 7.25},
        ]
    }
    default = (await client.get("/api/analytics/spending-trends", headers=headers)).json()["data"]
    assert len(default) == 30 and default[-1]["date"] == str(today)
    assert sum(d["amount"] for d in default) == 15.0 + 5.5 + 99.0 + 7.25
    year = (await client.get("/api/analytics/spending-trends?days=366", headers=headers)).json()["data"]
    assert len(year) == 366 and len({d["date"] for d in year}) == 366
    for days in ("0", "367", "x"):
        refused = await client.get(f"/api/analytics/spending-trends?days={days}", headers=headers)
        assert refused.status_code == 422, days


async def test_summary_income_against_spending_and_top_merchants(app, client) -> None:
    user, headers, friend, friend_headers, card = await _spender(app, client)
    await sent(client, friend_headers, user["id"], "5.00")  # income; the 30.00 card refund is not
    last_month = period_window(Period.MONTHLY, utcnow()).first_day - timedelta(days=1)
    earlier = await bought(client, card, "300.00", category="TRAVEL", merchant="Hotel Mar")
    await moved(
        app,
        "card_transactions",
        earlier,
        datetime.combine(last_month, time(12), tzinfo=BRASILIA).astimezone(UTC),
    )

    answer = await client.get("/api/analytics/summary?months=3", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    this_month = brasilia_day(utcnow()).strftime("%Y-%m")
    before_last = (last_month.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert body["months"] == [
        {"month": before_last, "income": 0.0, "spending": 0.0},
        {"month": last_month.strftime("%Y-%m"), "income": 0.0, "spending": 300.0},
        {"month": this_month, "income": 2005.0, "spending": 334.5},
    ]
    assert body["topMerchants"] == [
        {"merchant": "Hotel Mar", "spent": 300.0, "transactionCount": 1},
        {"merchant": "Padaria Real", "spent": 80.0, "transactionCount": 1},
        {"merchant": "Loja Azul", "spent": 70.0, "transactionCount": 1},
        {"merchant": "Mercado Bom", "spent": 20.0, "transactionCount": 1},
    ]
    one = (await client.get("/api/analytics/summary?months=1", headers=headers)).json()
    assert one["months"] == [{"month": this_month, "income": 2005.0, "spending": 334.5}]
    assert [m["merchant"] for m in one["topMerchants"]] == ["Padaria Real", "Loja Azul", "Mercado Bom"]
    default = (await client.get("/api/analytics/summary", headers=headers)).json()
    assert len(default["months"]) == 6
    theirs = (await client.get("/api/analytics/summary?months=1", headers=friend_headers)).json()
    assert theirs == {
        "months": [{"month": this_month, "income": 110.0, "spending": 5.0}],
        "topMerchants": [],
    }
    for months in ("0", "25"):
        assert (
            await client.get(f"/api/analytics/summary?months={months}", headers=headers)
        ).status_code == 422
    assert uuid.UUID(user["id"]) != uuid.UUID(friend["id"])
