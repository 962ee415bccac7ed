"""Pix through the web pages: by key or copia-e-cola, the recipient's name and bank shown before money
moves, one Pix per confirmation whatever the clicks, refusals as sentences next to their field; and the
customer's Pix keys (a random key made once per form, delete after a confirmation, another's key 404)."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

from laura.pix.brcode import build_brcode
from tests.bank.support import balance, funded_customer
from tests.helpers import auth_headers
from tests.web.support import browser, form_post, hidden, sign_in


async def _key(client, headers: dict, type_: str, key: str | None = None) -> dict:
    response = await client.post("/api/pix-keys", json={"type": type_, "key": key}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _review(http, target: str, amount: str = "", description: str = ""):
    return await form_post(
        http, "/pix/send", "/pix/send", {"target": target, "amount": amount, "description": description}
    )


def _confirmation(page: str) -> dict:
    return {
        name: hidden(page, name)
        for name in ("csrftoken", "idempotency_key", "target", "amount", "description")
    }


async def test_a_pix_by_key_names_the_recipient_and_bank_then_moves_money_once(app, client) -> None:
    sender, sender_headers = await funded_customer(app, client, "100.00")
    receiver, receiver_headers = await auth_headers(client, name="Carla Dias")
    await _key(client, receiver_headers, "EMAIL", receiver["email"])
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        review = await _review(http, receiver["email"].upper(), "30,00", "aluguel")
        assert review.status_code == 200, review.text
        assert 'data-testid="recipient-name">Carla Dias<' in review.text
        assert 'data-testid="recipient-bank">Laura (ISPB 99999999)<' in review.text
        assert "R$\xa030,00" in review.text
        assert await balance(client, sender_headers) == Decimal("100.00")  # nothing moved yet
        form = _confirmation(review.text)
        first, second = await asyncio.gather(
            http.post("/pix/send/confirm", data=form), http.post("/pix/send/confirm", data=form)
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        assert first.headers["location"] == second.headers["location"]
        again = await http.post("/pix/send/confirm", data=form)  # a refresh of the confirmation
        assert again.headers["location"] == first.headers["location"]
        receipt = (await http.get(first.headers["location"])).text
        assert "Carla Dias" in receipt and "R$\xa030,00" in receipt and receiver["email"] in receipt
        assert re.search(r"<code>E99999999\d{12}\w{11}</code>", receipt)  # the e2eId
    assert await balance(client, sender_headers) == Decimal("70.00")
    assert await balance(client, receiver_headers) == Decimal("30.00")


async def test_a_static_copia_e_cola_code_pays_its_own_amount(app, client) -> None:
    sender, sender_headers = await funded_customer(app, client, "50.00")
    _, receiver_headers = await auth_headers(client, name="Bruno Reis")
    key = await _key(client, receiver_headers, "EVP")
    code = build_brcode(
        merchant_name="BRUNO REIS", merchant_city="SAO PAULO", key=key["key"], amount=Decimal("12.50")
    )
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        review = await _review(http, code)
        assert review.status_code == 200, review.text
        assert "Bruno Reis" in review.text and "SAO PAULO" in review.text and "R$\xa012,50" in review.text
        sent = await http.post("/pix/send/confirm", data=_confirmation(review.text))
        assert sent.status_code == 303
        mismatch = await _review(http, code, "13,00")
        assert "O código já define o valor" in mismatch.text
    assert await balance(client, sender_headers) == Decimal("37.50")
    assert await balance(client, receiver_headers) == Decimal("12.50")


async def test_refusals_read_next_to_their_field(app, client) -> None:
    sender, sender_headers = await funded_customer(app, client, "5.00")
    own = await _key(client, sender_headers, "EVP")
    receiver, receiver_headers = await auth_headers(client)
    await _key(client, receiver_headers, "EMAIL", receiver["email"])
    dynamic = build_brcode(merchant_name="LOJA", merchant_city="RIO", location="pix.example.com/v2/cob/abc")
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        cases = {
            "not-a-key": "Esta não é uma chave Pix válida.",
            own["key"]: "Esta chave Pix é sua.",
            dynamic: "Este código é uma cobrança dinâmica",
            "000201broken": "Este código copia e cola não é válido.",
        }
        for target, sentence in cases.items():
            refused = await _review(http, target, "1,00")
            assert refused.status_code in (400, 422), refused.text
            assert re.search(r'id="target-error">' + re.escape(sentence), refused.text), target
        no_amount = await _review(http, receiver["email"])
        assert 'id="amount-error">Digite um valor maior que zero' in no_amount.text
        review = await _review(http, receiver["email"], "50,00")
        too_much = await http.post("/pix/send/confirm", data=_confirmation(review.text))
        assert too_much.status_code == 402
        assert "Seu saldo disponível não é suficiente para este valor." in too_much.text
        assert "INSUFFICIENT_BALANCE" not in too_much.text  # a sentence, never the API's JSON
    assert await balance(client, sender_headers) == Decimal("5.00")


async def _register(http, type_: str, key: str):
    """The keys page's form, with the Idempotency-Key it was rendered with."""
    page = (await http.get("/pix/keys")).text
    form = {"csrftoken": hidden(page, "csrftoken"), "idempotency_key": hidden(page, "idempotency_key")}
    return await http.post("/pix/keys", data={**form, "type": type_, "key": key})


async def test_my_pix_keys_random_made_once_deleted_after_confirmation(app, client) -> None:
    customer, headers = await funded_customer(app, client)
    other, other_headers = await auth_headers(client)
    others_key = await _key(client, other_headers, "EVP")
    async with browser(app) as http:
        await sign_in(http, customer["email"])
        page = (await http.get("/pix/keys")).text
        assert "Você ainda não tem chave Pix." in page
        form = {"csrftoken": hidden(page, "csrftoken"), "idempotency_key": hidden(page, "idempotency_key")}
        first, second = await asyncio.gather(
            http.post("/pix/keys", data={**form, "type": "EVP", "key": ""}),
            http.post("/pix/keys", data={**form, "type": "EVP", "key": ""}),
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        listed = (await client.get("/api/pix-keys", headers=headers)).json()
        assert [k["type"] for k in listed] == ["EVP"]  # one random key, not two
        await _key(client, other_headers, "EMAIL", other["email"])
        taken = await _register(http, "EMAIL", other["email"])
        assert taken.status_code == 409
        assert 'id="key-error">Esta chave já está registrada em uma conta.' in taken.text
        assert (await _register(http, "EMAIL", customer["email"])).status_code == 303
        page = (await http.get("/pix/keys")).text
        assert customer["email"] in page and listed[0]["key"] in page
        confirm = await http.get(f"/pix/keys/{listed[0]['id']}/delete")
        assert confirm.status_code == 200 and "Excluir a chave Pix?" in confirm.text
        deleted = await http.post(
            f"/pix/keys/{listed[0]['id']}/delete", data={"csrftoken": form["csrftoken"]}
        )
        assert deleted.status_code == 303
        assert [k["type"] for k in (await client.get("/api/pix-keys", headers=headers)).json()] == ["EMAIL"]
        assert (await http.get(f"/pix/keys/{others_key['id']}/delete")).status_code == 404
        refused = await http.post(
            f"/pix/keys/{others_key['id']}/delete", data={"csrftoken": form["csrftoken"]}
        )
        assert refused.status_code == 404
    kept = (await client.get("/api/pix-keys", headers=other_headers)).json()
    assert others_key["id"] in [k["id"] for k in kept]  # another's key is untouched
