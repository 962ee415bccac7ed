"""Budgets over HTTP: create (with what the period spent already), list, read, change, delete; one live
budget per category and period, concurrent creates included; validation refusals write nothing; another
customer's budget is 404."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from laura.bank.spending.windows import Period, period_window
from tests.bank.budgets.support import buy, create, created, customer_with_card
from tests.helpers import auth_headers
from tests.sql_support import rows, scalar


async def test_a_new_budget_answers_what_its_period_spent_already(app, client) -> None:
    _, headers, card = await customer_with_card(app, client)
    await buy(client, card, "125.50")

    budget = await created(client, headers, alertThresholds=[50, 80])

    assert budget["category"] == "FOOD" and budget["period"] == "MONTHLY"
    assert (budget["limit"], budget["spent"], budget["percentage"]) == (500.0, 125.5, 25.1)
    assert budget["status"] == "SAFE" and budget["alertThresholds"] == [50, 80]
    assert budget["endDate"] is None and budget["periodStart"] <= budget["periodEnd"]
    assert budget["createdAt"].endswith("Z")
    again = await client.get(f"/api/budgets/{budget['id']}", headers=headers)
    assert again.status_code == 200 and again.json() == budget
    listed = await client.get("/api/budgets", headers=headers)
    assert listed.json() == {"data": [budget]}
    audit = await rows(app.state.db, "SELECT action FROM audit_logs WHERE resource_type = 'budget'")
    assert audit == [("BUDGET_CREATED",)]


async def test_defaults_are_the_spec_thresholds_and_the_current_period(app, client) -> None:
    _, headers = await auth_headers(client)
    now = datetime.now(UTC)
    week = period_window(Period.WEEKLY, now)

    budget = await created(client, headers, category="TRANSPORT", period="WEEKLY", limit=80)

    assert budget["alertThresholds"] == [50, 75, 90] and budget["spent"] == 0.0
    assert budget["percentage"] == 0.0 and budget["status"] == "SAFE"
    assert budget["startDate"] == budget["periodStart"] == week.first_day.isoformat()
    assert budget["periodEnd"] == week.last_day.isoformat()
    assert week.first_day.weekday() == 0 and (week.last_day - week.first_day).days == 6


async def test_one_live_budget_per_category_and_period(app, client) -> None:
    _, headers = await auth_headers(client)
    first = await created(client, headers)

    twice = await create(client, headers, limit=100)
    assert twice.status_code == 409 and twice.json()["error"] == "BUDGET_ALREADY_EXISTS"
    assert (await create(client, headers, period="ANNUAL")).status_code == 201
    assert (await create(client, headers, category="HEALTH")).status_code == 201

    deleted = await client.delete(f"/api/budgets/{first['id']}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/budgets/{first['id']}", headers=headers)).status_code == 404
    assert (await create(client, headers, limit=100)).status_code == 201
    assert await scalar(app.state.db, "SELECT count(*) FROM budgets") == 4
    assert await scalar(app.state.db, "SELECT count(*) FROM budgets WHERE deleted_at IS NOT NULL") == 1


async def test_concurrent_creates_of_one_category_and_period_make_one_budget(app, client) -> None:
    _, headers = await auth_headers(client)

    answers = await asyncio.gather(*(create(client, headers, limit=100 + n) for n in range(8)))

    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert await scalar(app.state.db, "SELECT count(*) FROM budgets") == 1


async def test_patch_changes_only_what_is_sent(app, client) -> None:
    _, headers, card = await customer_with_card(app, client)
    await buy(client, card, "80.00")
    budget = await created(client, headers, endDate="2999-12-31")

    patched = await client.patch(
        f"/api/budgets/{budget['id']}", json={"limit": 100.00, "alertThresholds": [75, 90]}, headers=headers
    )

    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["limit"], body["spent"], body["percentage"], body["status"]) == (
        100.0,
        80.0,
        80.0,
        "WARNING",
    )
    assert body["endDate"] == "2999-12-31" and body["category"] == "FOOD"
    cleared = await client.patch(f"/api/budgets/{budget['id']}", json={"endDate": None}, headers=headers)
    assert cleared.json()["endDate"] is None and cleared.json()["limit"] == 100.0
    audit = await rows(
        app.state.db, "SELECT action FROM audit_logs WHERE resource_type = 'budget' ORDER BY id"
    )
    assert audit == [("BUDGET_CREATED",), ("BUDGET_UPDATED",), ("BUDGET_UPDATED",)]


async def test_another_customers_budget_is_not_found(app, client) -> None:
    _, owner = await auth_headers(client)
    _, other = await auth_headers(client)
    budget = await created(client, owner)
    path = f"/api/budgets/{budget['id']}"

    for response in (
        await client.get(path, headers=other),
        await client.patch(path, json={"limit": 1}, headers=other),
        await client.delete(path, headers=other),
    ):
        assert response.status_code == 404 and response.json()["error"] == "BUDGET_NOT_FOUND"
    assert (await client.get("/api/budgets", headers=other)).json() == {"data": []}
    assert (await client.get(path, headers=owner)).json()["limit"] == 500.0
    assert (await client.get("/api/budgets", headers={})).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"category": "PETS"},
        {"category": None},
        {"limit": 0},
        {"limit": -5},
        {"limit": 10.001},
        {"limit": "500.00"},
        {"period": "DAILY"},
        {"period": "CUSTOM"},
        {"alertThresholds": []},
        {"alertThresholds": [0, 50]},
        {"alertThresholds": [50, 101]},
        {"alertThresholds": [75, 50]},
        {"alertThresholds": [50, 50]},
        {"alertThresholds": [10, 20, 30, 40, 50, 60]},
        {"alertThresholds": [50.5]},
        {"alertThresholds": ["50"]},
        {"startDate": "2026-02-01", "endDate": "2026-01-31"},
        {"startDate": "2026-02-30"},
        {"color": "red"},
        {"category": "FOOD\u0000"},
    ],
)
async def test_invalid_budgets_are_422_and_write_nothing(app, client, body) -> None:
    _, headers = await auth_headers(client)
    response = await create(client, headers, **body)
    assert response.status_code == 422, response.text
    assert await scalar(app.state.db, "SELECT count(*) FROM budgets") == 0


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": None},
        {"alertThresholds": [90, 75]},
        {"alertThresholds": None},
        {"startDate": None},
        {"endDate": "2000-01-01"},
        {"category": "HEALTH"},
    ],
)
async def test_invalid_changes_are_422_and_change_nothing(app, client, body) -> None:
    _, headers = await auth_headers(client)
    budget = await created(client, headers, startDate="2026-01-01")
    response = await client.patch(f"/api/budgets/{budget['id']}", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert (await client.get(f"/api/budgets/{budget['id']}", headers=headers)).json() == budget
    assert await scalar(app.state.db, "SELECT count(*) FROM audit_logs WHERE action = 'BUDGET_UPDATED'") == 0
