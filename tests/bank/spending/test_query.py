"""The spending layer over real rows made over HTTP: each source, refunds, what is not spending, tagged
transfers, another customer's money, the category filter and Brasília-day boundaries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from laura.bank.spending import query
from laura.bank.spending.categories import SpendingCategory
from laura.bank.spending.windows import Period, Window, period_window
from laura.core.db import execute
from laura.core.models import utcnow
from tests.bank.card_network.support import authorize, make_card, purchase
from tests.bank.spending.support import bought, by_category, by_day, moved, paid_bill, sent
from tests.bank.support import funded_customer


def _this_month() -> Window:
    return period_window(Period.MONTHLY, utcnow())


async def test_each_source_counts_net_of_refunds_and_nothing_else(app, client) -> None:
    user, headers = await funded_customer(app, client, "2000.00")
    other, other_headers = await funded_customer(app, client, "500.00")
    card = await make_card(app, user["id"])
    await bought(client, card, "80.00")
    await bought(client, card, "20.00", merchant="Mercado Bom")
    await bought(client, card, "100.00", category="SHOPPING", refund="30.00")
    await bought(client, card, "50.00", category="HEALTH", refund="50.00")  # all back: spends nothing
    held = await authorize(client, purchase(card, "40.00"))  # authorized, never captured
    assert held["approved"] is True
    await paid_bill(client, headers, "154.50")
    await sent(client, headers, other["id"], "10.00")
    await bought(client, await make_card(app, other["id"]), "99.00")
    await sent(client, other_headers, user["id"], "5.00")  # received: not the customer's spending

    assert await by_category(app, user["id"], _this_month()) == {
        "BILLS": (154_50, 1),
        "FOOD": (100_00, 2),
        "SHOPPING": (70_00, 1),
        "TRANSFERS": (10_00, 1),
    }
    assert await by_category(app, other["id"], _this_month()) == {"FOOD": (99_00, 1), "TRANSFERS": (5_00, 1)}


async def test_a_tagged_transfer_counts_in_its_category_and_the_filter_keeps_only_those_asked(
    app, client
) -> None:
    user, headers = await funded_customer(app, client, "500.00")
    friend, _ = await funded_customer(app, client)
    rent = await sent(client, headers, friend["id"], "300.00")
    await sent(client, headers, friend["id"], "12.00")
    card = await make_card(app, user["id"])
    await bought(client, card, "25.00", category="TRANSPORT")
    async with app.state.db.unit_of_work() as session:
        await execute(session, "UPDATE transfers SET category = 'BILLS' WHERE id = $1::uuid", rent)

    assert await by_category(app, user["id"], _this_month()) == {
        "BILLS": (300_00, 1),
        "TRANSPORT": (25_00, 1),
        "TRANSFERS": (12_00, 1),
    }
    async with app.state.db.sessionmaker() as session:
        only = await query.spending_by_category(
            session, uuid.UUID(user["id"]), _this_month(), [SpendingCategory.TRANSPORT, SpendingCategory.FOOD]
        )
    assert [(s.category, s.spent_cents, s.count) for s in only] == [(SpendingCategory.TRANSPORT, 25_00, 1)]


async def test_days_and_periods_are_brasilia_days(app, client) -> None:
    user, headers = await funded_customer(app, client, "1000.00")
    friend, _ = await funded_customer(app, client)
    card = await make_card(app, user["id"])
    # 23:30 on 31 January in São Paulo is already 1 February in UTC; 00:00 on 1 February is 03:00 UTC
    late_january = await bought(client, card, "10.00")
    await moved(app, "card_transactions", late_january, datetime(2026, 2, 1, 2, 30, tzinfo=UTC))
    first_of_february = await bought(client, card, "20.00")
    await moved(app, "card_transactions", first_of_february, datetime(2026, 2, 1, 3, 0, tzinfo=UTC))
    bill = await paid_bill(client, headers, "30.00")
    await moved(app, "bill_payments", bill, datetime(2026, 1, 31, 2, 59, tzinfo=UTC))  # 30 Jan, 23:59
    transfer = await sent(client, headers, friend["id"], "40.00")
    await moved(app, "transfers", transfer, datetime(2026, 1, 31, 3, 0, tzinfo=UTC))  # 31 Jan, 00:00

    january = period_window(Period.MONTHLY, datetime(2026, 1, 15, 12, tzinfo=UTC))
    assert await by_category(app, user["id"], january) == {
        "BILLS": (30_00, 1),
        "TRANSFERS": (40_00, 1),
        "FOOD": (10_00, 1),
    }
    february = period_window(Period.MONTHLY, datetime(2026, 2, 15, 12, tzinfo=UTC))
    assert await by_category(app, user["id"], february) == {"FOOD": (20_00, 1)}
    days = Window.between(date(2026, 1, 29), date(2026, 2, 2))
    assert await by_day(app, user["id"], days) == [
        ("2026-01-30", 30_00),
        ("2026-01-31", 50_00),
        ("2026-02-01", 20_00),
    ]
    assert await by_day(app, user["id"], Window.between(date(2026, 1, 31), date(2026, 1, 31))) == [
        ("2026-01-31", 50_00)
    ]


async def test_months_and_merchants_follow_the_same_definition(app, client) -> None:
    user, headers = await funded_customer(app, client, "1000.00")
    card = await make_card(app, user["id"])
    late_january = await bought(client, card, "10.00", merchant="Bar do Zé")
    await moved(app, "card_transactions", late_january, datetime(2026, 2, 1, 2, 30, tzinfo=UTC))
    february = await bought(client, card, "25.00", merchant="Loja Azul", category="SHOPPING", refund="5.00")
    await moved(app, "card_transactions", february, datetime(2026, 2, 1, 3, 0, tzinfo=UTC))
    gone = await bought(client, card, "99.00", merchant="Devolvida", refund="99.00")
    await moved(app, "card_transactions", gone, datetime(2026, 2, 2, 3, 0, tzinfo=UTC))
    bill = await paid_bill(client, headers, "30.00")
    await moved(app, "bill_payments", bill, datetime(2026, 2, 10, 12, tzinfo=UTC))
    window = Window.between(date(2025, 12, 1), date(2026, 2, 28))

    async with app.state.db.sessionmaker() as session:
        months = await query.spending_by_month(session, uuid.UUID(user["id"]), window)
        merchants = await query.top_merchants(session, uuid.UUID(user["id"]), window, 5)
        one = await query.top_merchants(session, uuid.UUID(user["id"]), window, 1)
    assert months == [(date(2026, 1, 1), 10_00), (date(2026, 2, 1), 50_00)]
    assert [(m.merchant, m.spent_cents, m.count) for m in merchants] == [
        ("Loja Azul", 20_00, 1),
        ("Bar do Zé", 10_00, 1),
    ]
    assert [m.merchant for m in one] == ["Loja Azul"]
