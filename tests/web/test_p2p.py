"""P2P by e-mail through the web pages: the recipient named before money moves, one transfer per
confirmation whatever the clicks, the receipt only for its sender."""

from __future__ import annotations

import asyncio
import re
import uuid
from decimal import Decimal

from tests.bank.support import balance, funded_customer
from tests.helpers import auth_headers
from tests.web.support import browser, csrf, form_post, hidden, sign_in


async def _review(http, email: str, amount: str, description: str = "") -> str:
    response = await form_post(
        http,
        "/transfers/p2p",
        "/transfers/p2p",
        {"email": email, "amount": amount, "description": description},
    )
    assert response.status_code == 200, response.text
    return response.text


def _confirmation(page: str) -> dict:
    names = ("csrftoken", "idempotency_key", "recipient_id", "email", "amount", "description")
    return {name: hidden(page, name) for name in names}


async def test_a_p2p_names_the_recipient_then_moves_money_once(app, client) -> None:
    sender, sender_headers = await funded_customer(app, client, "100.00")
    receiver, receiver_headers = await auth_headers(client, name="Carla Dias")
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        page = await _review(http, receiver["email"], "25,90", "almoço")
        assert "Carla Dias" in page and "R$\xa025,90" in page
        assert await balance(client, sender_headers) == Decimal("100.00")  # nothing moved yet
        form = _confirmation(page)
        uuid.UUID(form["idempotency_key"])
        first, second = await asyncio.gather(
            http.post("/transfers/p2p/confirm", data=form), http.post("/transfers/p2p/confirm", data=form)
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        assert first.headers["location"] == second.headers["location"]
        again = await http.post("/transfers/p2p/confirm", data=form)  # a refresh of the confirmation
        assert again.headers["location"] == first.headers["location"]
        receipt = await http.get(first.headers["location"])
        assert receipt.status_code == 200
        assert "Carla Dias" in receipt.text and "R$\xa025,90" in receipt.text
    assert await balance(client, sender_headers) == Decimal("74.10")
    assert await balance(client, receiver_headers) == Decimal("25.90")
    async with browser(app) as other:
        await sign_in(other, receiver["email"])
        home = await other.get("/")
        assert "+R$\xa025,90" in home.text
        assert (await other.get(first.headers["location"])).status_code == 404  # the sender's receipt
        assert (await other.get(f"/transfers/{uuid.uuid4()}")).status_code == 404


async def test_refusals_read_next_to_their_field(app, client) -> None:
    sender, _ = await funded_customer(app, client, "10.00")
    receiver, receiver_headers = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        unknown = await form_post(
            http, "/transfers/p2p", "/transfers/p2p", {"email": "nobody@example.com", "amount": "1,00"}
        )
        assert unknown.status_code == 422
        assert re.search(r'id="email-error">Nenhum cliente do banco tem este e-mail.<', unknown.text)
        myself = await form_post(
            http, "/transfers/p2p", "/transfers/p2p", {"email": sender["email"], "amount": "0"}
        )
        assert "Você não pode transferir para si mesmo." in myself.text
        assert "Digite um valor maior que zero, como 12,34." in myself.text
        page = await _review(http, receiver["email"], "50,00")
        too_much = await http.post("/transfers/p2p/confirm", data=_confirmation(page))
        assert too_much.status_code == 402
        assert "Seu saldo disponível não é suficiente para este valor." in too_much.text
    assert await balance(client, receiver_headers) == Decimal("0.00")


async def test_a_confirmation_without_its_csrf_token_moves_nothing(app, client) -> None:
    sender, sender_headers = await funded_customer(app, client, "10.00")
    receiver, _ = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        form = _confirmation(await _review(http, receiver["email"], "5,00"))
        refused = await http.post("/transfers/p2p/confirm", data={**form, "csrftoken": ""})
        assert refused.status_code == 403
        assert csrf((await http.get("/")).text)
    assert await balance(client, sender_headers) == Decimal("10.00")
