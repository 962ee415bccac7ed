"""Budgets and analytics through the web pages: a budget made once whatever the clicks, its bar coloured by
its status on the list and the home, refusals next to their field, changes and deletion, another
customer's budget 404; the analytics page's categories and months, and the home's 30-day chart."""

from __future__ import annotations

import re
import uuid

from tests.bank.support import funded_customer
from tests.helpers import auth_headers
from tests.web.support import browser, csrf, hidden, sign_in


async def _budgets(client, headers) -> list[dict]:
    response = await client.get("/api/budgets", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def _new_form(http) -> dict:
    page = await http.get("/budgets/new")
    assert page.status_code == 200, page.text
    return {"csrftoken": csrf(page.text), "idempotency_key": hidden(page.text, "idempotency_key")}


async def _spend_by_p2p(client, headers, amount: float) -> None:
    recipient, _ = await auth_headers(client)
    response = await client.post(
        "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": amount}, headers=headers
    )
    assert response.status_code == 201, response.text


async def test_a_budget_is_made_once_and_its_bar_shows_its_status(app, client) -> None:
    user, headers = await funded_customer(app, client, "200.00")
    await _spend_by_p2p(client, headers, 95.00)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        form = {
            **await _new_form(http),
            "category": "TRANSFERS",
            "period": "MONTHLY",
            "limit": "100,00",
            "alert_thresholds": "50, 75, 90",
        }
        first = await http.post("/budgets/new", data=form)
        second = await http.post("/budgets/new", data=form)  # a double click: the same Idempotency-Key
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        listed = await http.get("/budgets")
        assert "Transferências" in listed.text and "Mensal" in listed.text
        assert "R$\xa095,00 de R$\xa0100,00" in listed.text
        assert 'class="fill danger" style="width: 95.00%"' in listed.text
        assert "No limite ou acima dele" in listed.text
        home = await http.get("/")
        assert 'data-testid="budget-transfers"' in home.text and 'class="fill danger"' in home.text
        assert "Gastos dos últimos 30 dias" in home.text and "Total R$\xa095,00" in home.text
    [budget] = await _budgets(client, headers)
    assert budget["status"] == "DANGER" and budget["limit"] == 100.0


async def test_refusals_read_next_to_their_field(app, client) -> None:
    user, headers = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        base = {"category": "FOOD", "period": "MONTHLY", "limit": "300", "alert_thresholds": "50, 75, 90"}
        bad = await http.post("/budgets/new", data={**await _new_form(http), **base, "limit": "abc"})
        assert bad.status_code == 422
        assert re.search(r'id="limit-error">Digite um limite maior que zero, como 500,00.<', bad.text)
        backwards = await http.post(
            "/budgets/new", data={**await _new_form(http), **base, "alert_thresholds": "90, 50"}
        )
        assert backwards.status_code == 422 and 'id="alert_thresholds-error"' in backwards.text
        no_category = await http.post("/budgets/new", data={**await _new_form(http), **base, "category": ""})
        assert (
            no_category.status_code == 422
            and 'id="category-error">Escolha uma categoria.<' in no_category.text
        )
        made = await http.post("/budgets/new", data={**await _new_form(http), **base})
        assert made.status_code == 303
        twice = await http.post("/budgets/new", data={**await _new_form(http), **base})
        assert twice.status_code == 409
        assert re.search(
            r'id="category-error">Você já tem um orçamento para esta categoria e período', twice.text
        )
        assert 'value="FOOD" selected' in twice.text  # what was typed stays in the form
    assert len(await _budgets(client, headers)) == 1


async def test_change_and_delete_a_budget_and_another_customers_is_404(app, client) -> None:
    user, headers = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        base = {"category": "FOOD", "period": "WEEKLY", "limit": "300,00", "alert_thresholds": "80"}
        assert (await http.post("/budgets/new", data={**await _new_form(http), **base})).status_code == 303
        [budget] = await _budgets(client, headers)
        edit = f"/budgets/{budget['id']}/edit"
        page = await http.get(edit)
        assert 'value="300,00"' in page.text and 'value="80"' in page.text
        wrong = await http.post(
            edit, data={"csrftoken": csrf(page.text), "limit": "0", "alert_thresholds": "80"}
        )
        assert wrong.status_code == 422 and 'id="limit-error"' in wrong.text
        changed = await http.post(
            edit, data={"csrftoken": csrf(page.text), "limit": "450,50", "alert_thresholds": "70, 95"}
        )
        assert changed.status_code == 303
        [after] = await _budgets(client, headers)
        assert after["limit"] == 450.5 and after["alertThresholds"] == [70, 95]

    other, _ = await auth_headers(client)
    async with browser(app) as intruder:
        await sign_in(intruder, other["email"])
        token = csrf((await intruder.get("/budgets")).text)
        for path in (edit, f"/budgets/{budget['id']}/delete", f"/budgets/{uuid.uuid4()}/edit"):
            assert (await intruder.get(path)).status_code == 404, path
        data = {"csrftoken": token, "limit": "1,00", "alert_thresholds": "50"}
        assert (await intruder.post(edit, data=data)).status_code == 404
        assert (await intruder.post(f"/budgets/{budget['id']}/delete", data=data)).status_code == 404
    assert (await _budgets(client, headers))[0]["limit"] == 450.5

    async with browser(app) as http:
        await sign_in(http, user["email"])
        confirm = await http.get(f"/budgets/{budget['id']}/delete")
        assert confirm.status_code == 200 and "Alimentação" in confirm.text
        gone = await http.post(f"/budgets/{budget['id']}/delete", data={"csrftoken": csrf(confirm.text)})
        assert gone.status_code == 303
    assert await _budgets(client, headers) == []


async def test_analytics_shows_categories_days_and_months(app, client) -> None:
    user, headers = await funded_customer(app, client, "500.00")
    await _spend_by_p2p(client, headers, 120.00)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        page = await http.get("/analytics")
        assert page.status_code == 200
        categories = page.text.split('data-testid="categories"')[1].split("</table>")[0]
        assert "Transferências" in categories and "R$\xa0120,00" in categories and "100%" in categories
        assert 'stroke-dasharray="100 0"' in page.text  # one category: the whole donut
        months = page.text.split('data-testid="months"')[1].split("</table>")[0]
        assert "R$\xa0500,00" in months and "R$\xa0120,00" in months  # income (the funding) and spending
        assert "Total R$\xa0120,00" in page.text
        weekly = await http.get("/analytics?period=WEEKLY&days=7")
        assert weekly.status_code == 200 and "Transferências" in weekly.text
        english = await http.get("/analytics?lang=en")
        assert "Where your money goes" in english.text and "R$120.00" in english.text
