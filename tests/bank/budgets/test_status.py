"""SAFE below the second-highest threshold, WARNING from it, DANGER from the highest or over the limit:
every boundary over HTTP (one purchase, the limit moved around it) and the rule itself, in exact cents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from laura.bank.budgets.status import BudgetStatus, percentage, reached_thresholds, status_of
from tests.bank.budgets.support import buy, created, customer_with_card, summary


@pytest.mark.parametrize(
    ("spent", "limit", "thresholds", "expected"),
    [
        (74_99, 100_00, [50, 75, 90], BudgetStatus.SAFE),
        (75_00, 100_00, [50, 75, 90], BudgetStatus.WARNING),
        (89_99, 100_00, [50, 75, 90], BudgetStatus.WARNING),
        (90_00, 100_00, [50, 75, 90], BudgetStatus.DANGER),
        (100_01, 100_00, [50, 75, 90], BudgetStatus.DANGER),
        (0, 100_00, [50, 75, 90], BudgetStatus.SAFE),
        (79_99, 100_00, [80], BudgetStatus.SAFE),
        (80_00, 100_00, [80], BudgetStatus.DANGER),
        (99_99, 100_00, [50, 100], BudgetStatus.WARNING),
        (100_00, 100_00, [50, 100], BudgetStatus.DANGER),
        (75_00, 100_01, [50, 75, 90], BudgetStatus.SAFE),  # 74.9925%: not 75
        (1, 3, [33, 34], BudgetStatus.WARNING),  # 33.33...%
    ],
)
def test_status_compares_exact_cents(spent, limit, thresholds, expected) -> None:
    assert status_of(spent, limit, thresholds) is expected


def test_reached_thresholds_and_percentage() -> None:
    assert reached_thresholds(75_00, 100_00, [50, 75, 90]) == [50, 75]
    assert reached_thresholds(74_99, 100_00, [50, 75, 90]) == [50]
    assert percentage(75_00, 100_01) == Decimal("74.99")
    assert percentage(2, 3) == Decimal("66.66")
    assert percentage(150_00, 100_00) == Decimal("150.00")


async def test_every_boundary_over_http(app, client) -> None:
    _, headers, card = await customer_with_card(app, client)
    await buy(client, card, "75.00")
    budget = await created(client, headers, limit=100.00)
    path = f"/api/budgets/{budget['id']}"
    assert (budget["percentage"], budget["status"]) == (75.0, "WARNING")  # exactly at 75%

    for limit, percent, status in [
        (100.01, 74.99, "SAFE"),  # just below 75%
        (83.34, 89.99, "WARNING"),  # just below 90%
        (83.33, 90.0, "DANGER"),  # 90.0036%: from 90%
        (75.00, 100.0, "DANGER"),
        (74.99, 100.01, "DANGER"),  # over the limit
    ]:
        patched = (await client.patch(path, json={"limit": limit}, headers=headers)).json()
        assert (patched["percentage"], patched["status"]) == (percent, status), limit
        [item] = (await summary(client, headers))["budgets"]
        assert (item["limit"], item["spent"], item["percentage"], item["status"]) == (
            limit,
            75.0,
            percent,
            status,
        )


async def test_a_single_threshold_is_safe_then_danger(app, client) -> None:
    _, headers, card = await customer_with_card(app, client)
    budget = await created(client, headers, limit=100.00, alertThresholds=[80])
    await buy(client, card, "79.99")
    assert (await summary(client, headers))["budgets"][0]["status"] == "SAFE"
    await buy(client, card, "0.01")
    assert (await client.get(f"/api/budgets/{budget['id']}", headers=headers)).json()["status"] == "DANGER"


async def test_the_summary_totals_every_live_budget(app, client) -> None:
    _, headers, card = await customer_with_card(app, client)
    assert await summary(client, headers) == {
        "totalBudget": 0.0,
        "totalSpent": 0.0,
        "percentageSpent": 0.0,
        "budgets": [],
    }
    await buy(client, card, "250.00")
    food = await created(client, headers, limit=500.00)
    health = await created(client, headers, category="HEALTH", limit=300.00)
    annual = await created(client, headers, period="ANNUAL", limit=4200.00)

    answer = await summary(client, headers)

    assert (answer["totalBudget"], answer["totalSpent"], answer["percentageSpent"]) == (5000.0, 500.0, 10.0)
    assert answer["budgets"] == [
        {
            "id": food["id"],
            "category": "FOOD",
            "period": "MONTHLY",
            "limit": 500.0,
            "spent": 250.0,
            "percentage": 50.0,
            "status": "SAFE",
        },
        {
            "id": health["id"],
            "category": "HEALTH",
            "period": "MONTHLY",
            "limit": 300.0,
            "spent": 0.0,
            "percentage": 0.0,
            "status": "SAFE",
        },
        {
            "id": annual["id"],
            "category": "FOOD",
            "period": "ANNUAL",
            "limit": 4200.0,
            "spent": 250.0,
            "percentage": 5.95,
            "status": "SAFE",
        },
    ]
