"""TED through the web pages: the bank's name, the fee, the total and the estimated delivery shown before
anything moves; one TED per confirmation whatever the clicks; its receipt; refusals next to their field."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.bank.support import funded_customer
from tests.web.support import browser, form_post, hidden, sign_in

_FORM = {
    "bank": "341",
    "agency": "0001",
    "account": "12345-6",
    "account_type": "CHECKING",
    "recipient_name": "Marta Lima",
    "recipient_document": "",
    "amount": "100,00",
    "description": "",
}


async def _available(client, headers) -> Decimal:
    response = await client.get("/api/accounts/me", headers=headers)
    return Decimal(str(response.json()["available"]))


async def test_a_ted_shows_fee_and_delivery_before_it_is_sent_once(app, client) -> None:
    sender, headers = await funded_customer(app, client, "500.00")
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        review = await form_post(http, "/ted", "/ted", _FORM)
        assert review.status_code == 200, review.text
        assert 'data-testid="recipient-bank">341 · Itaú' in review.text
        assert 'data-testid="ted-fee">R$\xa08,50<' in review.text
        assert 'data-testid="ted-total">R$\xa0108,50<' in review.text
        assert 'data-testid="ted-delivery"><time datetime="' in review.text
        assert await _available(client, headers) == Decimal("500.00")
        names = ("csrftoken", "idempotency_key", *_FORM)
        form = {name: hidden(review.text, name) for name in names}
        first, second = await asyncio.gather(
            http.post("/ted/confirm", data=form), http.post("/ted/confirm", data=form)
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        assert first.headers["location"] == second.headers["location"]
        receipt = (await http.get(first.headers["location"])).text
        assert "Marta Lima" in receipt and "R$\xa0100,00" in receipt and "R$\xa08,50" in receipt
        assert "0001 · 12345-6" in receipt and "Pendente" in receipt
    assert await _available(client, headers) == Decimal("391.50")  # amount + fee held once


async def test_ted_refusals_read_next_to_their_field(app, client) -> None:
    sender, _ = await funded_customer(app, client, "10.00")
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        bad = await form_post(http, "/ted", "/ted", {**_FORM, "bank": "999", "agency": "1", "amount": "0"})
        assert bad.status_code == 422
        assert 'id="bank-error">Escolha o banco de quem recebe.' in bad.text
        assert 'id="agency-error">Digite a agência' in bad.text
        assert 'id="amount-error">Digite um valor maior que zero' in bad.text
        review = await form_post(http, "/ted", "/ted", _FORM)
        form = {name: hidden(review.text, name) for name in ("csrftoken", "idempotency_key", *_FORM)}
        short = await http.post("/ted/confirm", data=form)
        assert short.status_code == 402
        assert "Seu saldo disponível não é suficiente para este valor." in short.text
