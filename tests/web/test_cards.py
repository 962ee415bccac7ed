"""Cards through the web pages: a new virtual card's number shown once (a refresh of that page does not
show it again), block and unblock, a card reported lost after a confirmation, details revealed with a
one-time code, and another customer's card answering 404 on every page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from laura.bank.transfers.calendar import brasilia_day
from laura.core.models import utcnow
from tests.bank.cards.support import card_count, cards, enrolled, next_code, number_of, physical
from tests.helpers import auth_headers
from tests.web.support import browser, csrf, form_post, hidden, sign_in


def _in_days(days: int) -> str:
    return (brasilia_day(utcnow()) + timedelta(days=days)).isoformat()


async def _new_card_form(http) -> dict:
    page = await http.get("/cards/new")
    assert page.status_code == 200, page.text
    return {"csrftoken": csrf(page.text), "idempotency_key": hidden(page.text, "idempotency_key")}


async def test_a_virtual_cards_number_shows_once_and_not_on_a_refresh(app, client) -> None:
    user, headers = await auth_headers(client, name="Ana Souza")
    async with browser(app) as http:
        await sign_in(http, user["email"])
        form = {
            **await _new_card_form(http),
            "limit": "500,00",
            "expires_on": _in_days(30),
            "description": "Compras",
        }
        created = await http.post("/cards/new", data=form)
        assert created.status_code == 200, created.text
        assert created.headers["cache-control"] == "no-store"
        [card] = [c for c in await cards(client, headers) if c["type"] == "VIRTUAL"]
        number, cvv = await number_of(app, card["id"])
        grouped = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        assert grouped in created.text and f'data-testid="card-cvv">{cvv}<' in created.text
        assert "R$\xa0500,00" in created.text
        assert number not in str(created.url) and card["id"] not in created.text

        refreshed = await http.post("/cards/new", data=form)  # the browser's refresh sends the form again
        assert refreshed.status_code == 200
        assert 'data-testid="number-gone"' in refreshed.text
        assert (
            grouped not in refreshed.text and cvv not in refreshed.text.split('data-testid="number-gone"')[1]
        )
        listed = await http.get("/cards")
        assert f"•••• {card['lastFourDigits']}" in listed.text and grouped not in listed.text
    assert card["limit"] == 500.0 and card["description"] == "Compras"
    assert len([c for c in await cards(client, headers) if c["type"] == "VIRTUAL"]) == 1


async def test_the_new_card_form_says_what_is_wrong_next_to_the_field(app, client) -> None:
    user, _ = await auth_headers(client)
    before = await card_count(app)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        form = {**await _new_card_form(http), "limit": "abc", "expires_on": _in_days(30), "description": ""}
        bad_limit = await http.post("/cards/new", data=form)
        assert bad_limit.status_code == 422
        assert re.search(r'id="limit-error">Digite um limite maior que zero, como 500,00.<', bad_limit.text)
        form = {**await _new_card_form(http), "limit": "50", "expires_on": _in_days(-1), "description": ""}
        past = await http.post("/cards/new", data=form)
        assert past.status_code == 422
        assert re.search(r'id="expires_on-error">Escolha uma data futura', past.text)
    assert await card_count(app) == before


async def test_block_unblock_and_report_lost(app, client) -> None:
    user, headers = await auth_headers(client)
    card = await physical(client, headers)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        blocked = await form_post(http, "/cards", f"/cards/{card['id']}/block", {"action": "BLOCK"})
        assert blocked.status_code == 303
        page = await http.get("/cards")
        assert "Bloqueado" in page.text and ">Desbloquear<" in page.text
        assert [c["status"] for c in await cards(client, headers) if c["id"] == card["id"]] == ["BLOCKED"]
        await form_post(http, "/cards", f"/cards/{card['id']}/block", {"action": "UNBLOCK"})
        assert [c["status"] for c in await cards(client, headers) if c["id"] == card["id"]] == ["ACTIVE"]

        confirm = await http.get(f"/cards/{card['id']}/lost")
        assert confirm.status_code == 200 and "novo cartão físico" in confirm.text
        token = csrf(confirm.text)
        done = await http.post(f"/cards/{card['id']}/lost", data={"csrftoken": token})
        assert done.status_code == 200, done.text
        again = await http.post(f"/cards/{card['id']}/lost", data={"csrftoken": token})  # a second click
        assert again.status_code == 409 and "não pode ser usado de novo" in again.text
    listed = await cards(client, headers)
    assert [c["status"] for c in listed if c["id"] == card["id"]] == ["LOST"]
    assert (
        len([c for c in listed if c["type"] == "PHYSICAL" and c["status"] == "ACTIVE"]) == 1
    )  # replaced once


async def test_details_after_a_one_time_code(app, client) -> None:
    user, headers = await auth_headers(client)
    card = await physical(client, headers)
    totp = await enrolled(client, headers)
    number, cvv = await number_of(app, card["id"])
    async with browser(app) as http:
        await sign_in(http, user["email"])
        form = await http.get(f"/cards/{card['id']}/reveal")
        token = csrf(form.text)
        wrong = await http.post(f"/cards/{card['id']}/reveal", data={"csrftoken": token, "code": "000000"})
        assert (
            wrong.status_code == 401
            and 'id="code-error"' in wrong.text
            and 'data-testid="card-cvv"' not in wrong.text
        )
        code = next_code(totp)
        shown = await http.post(f"/cards/{card['id']}/reveal", data={"csrftoken": token, "code": code})
        assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
        assert f'data-testid="card-cvv">{cvv}<' in shown.text and number[:4] in shown.text
        reused = await http.post(f"/cards/{card['id']}/reveal", data={"csrftoken": token, "code": code})
        assert reused.status_code == 401 and "já foi usado" in reused.text


async def test_another_customers_card_is_not_found_on_every_page(app, client) -> None:
    _, owner_headers = await auth_headers(client)
    card = await physical(client, owner_headers)
    other, _ = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, other["email"])
        token = csrf((await http.get("/cards")).text)
        for path in (
            f"/cards/{card['id']}/lost",
            f"/cards/{card['id']}/reveal",
            f"/cards/{uuid.uuid4()}/lost",
        ):
            assert (await http.get(path)).status_code == 404, path
        for path in (
            f"/cards/{card['id']}/block",
            f"/cards/{card['id']}/lost",
            f"/cards/{card['id']}/reveal",
        ):
            answer = await http.post(path, data={"csrftoken": token, "action": "BLOCK", "code": "123456"})
            assert answer.status_code == 404, path
            assert "Página não encontrada" in answer.text
    assert (await physical(client, owner_headers))["status"] == "ACTIVE"


async def test_a_virtual_card_is_cancelled_after_a_confirmation_and_a_physical_one_is_not(
    app, client
) -> None:
    user, headers = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        form = {**await _new_card_form(http), "limit": "50", "expires_on": _in_days(10), "description": ""}
        assert (await http.post("/cards/new", data=form)).status_code == 200
        [card] = [c for c in await cards(client, headers) if c["type"] == "VIRTUAL"]
        confirm = await http.get(f"/cards/{card['id']}/cancel")
        assert confirm.status_code == 200 and f"•••• {card['lastFourDigits']}" in confirm.text
        token = csrf(confirm.text)
        first = await http.post(f"/cards/{card['id']}/cancel", data={"csrftoken": token})
        second = await http.post(f"/cards/{card['id']}/cancel", data={"csrftoken": token})  # a second click
        assert first.status_code == second.status_code == 303
        listed = await http.get("/cards")
        assert "Cancelado" in listed.text
        physical_card = await physical(client, headers)
        refused = await http.post(f"/cards/{physical_card['id']}/cancel", data={"csrftoken": token})
        assert refused.status_code == 409 and "Só cartões virtuais podem ser cancelados" in refused.text
    statuses = {c["id"]: c["status"] for c in await cards(client, headers)}
    assert statuses[card["id"]] == "CANCELLED" and statuses[physical_card["id"]] == "ACTIVE"
