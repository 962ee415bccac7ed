"""The transfers-per-hour limit on the web's P2P and Pix forms: past it, the page says so in a sentence
(never the API's JSON) and nothing moves."""

from __future__ import annotations

from decimal import Decimal

import pytest

from laura.settings import Settings
from tests.bank.support import balance, funded_customer
from tests.helpers import auth_headers
from tests.web.support import browser, form_post, hidden, sign_in


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_transfers": "1/hour"})


async def test_past_the_hourly_limit_a_pix_form_says_so_and_nothing_moves(app, client) -> None:
    sender, headers = await funded_customer(app, client, "10.00")
    receiver, receiver_headers = await auth_headers(client)
    await client.post(
        "/api/pix-keys", json={"type": "EMAIL", "key": receiver["email"]}, headers=receiver_headers
    )
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        for expected in (303, 429):
            review = await form_post(
                http, "/pix/send", "/pix/send", {"target": receiver["email"], "amount": "1,00"}
            )
            names = ("csrftoken", "idempotency_key", "target", "amount", "description")
            sent = await http.post("/pix/send/confirm", data={n: hidden(review.text, n) for n in names})
            assert sent.status_code == expected, sent.text
        assert "Muitas tentativas." in sent.text and "RATE_LIMITED" not in sent.text
    assert await balance(client, headers) == Decimal("9.00")


async def test_past_the_hourly_limit_a_p2p_form_says_so_and_nothing_moves(app, client) -> None:
    sender, headers = await funded_customer(app, client, "10.00")
    receiver, _ = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        for expected in (303, 429):
            review = await form_post(
                http, "/transfers/p2p", "/transfers/p2p", {"email": receiver["email"], "amount": "1,00"}
            )
            names = ("csrftoken", "idempotency_key", "recipient_id", "email", "amount", "description")
            sent = await http.post("/transfers/p2p/confirm", data={n: hidden(review.text, n) for n in names})
            assert sent.status_code == expected, sent.text
        assert "Muitas tentativas." in sent.text and "RATE_LIMITED" not in sent.text
    assert await balance(client, headers) == Decimal("9.00")
