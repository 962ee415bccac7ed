"""`POST /api/transfers/pix/preview`: who a Pix would pay before it is sent — a key of ours names its owner
and the bank, another institution's key only what its BR Code declares — refused as sending would be, and
with nothing moved or written."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from laura.pix.brcode import build_brcode
from tests.bank.support import balance, funded_customer
from tests.helpers import auth_headers


async def _preview(client, headers: dict, body: dict):
    return await client.post("/api/transfers/pix/preview", json=body, headers=headers)


async def test_a_key_of_ours_names_its_owner_and_the_bank_and_moves_nothing(app, client) -> None:
    _, headers = await funded_customer(app, client, "20.00")
    _, payee_headers = await auth_headers(client, name="Joana Prado")
    key = (await client.post("/api/pix-keys", json={"type": "EVP"}, headers=payee_headers)).json()["key"]
    answer = await _preview(client, headers, {"pixKey": key.upper(), "amount": 7.5})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "pixKey": key,
        "keyType": "EVP",
        "amount": 7.5,
        "recipientName": "Joana Prado",
        "institution": "Laura (ISPB 99999999)",
        "city": None,
        "description": None,
    }
    assert await balance(client, headers) == Decimal("20.00")
    async with app.state.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM transfers")) == 0


async def test_another_institutions_key_shows_what_its_code_declares(app, client) -> None:
    _, headers = await funded_customer(app, client)
    code = build_brcode(
        merchant_name="PADARIA CENTRAL", merchant_city="RECIFE", key="+5581999990000", amount=Decimal("9.90")
    )
    answer = (await _preview(client, headers, {"brCode": code})).json()
    assert answer["recipientName"] == "PADARIA CENTRAL" and answer["city"] == "RECIFE"
    assert answer["institution"] is None and answer["amount"] == 9.9 and answer["keyType"] == "PHONE"
    bare = (await _preview(client, headers, {"pixKey": "alguem@outrobanco.com", "amount": 1})).json()
    assert bare["recipientName"] is None and bare["institution"] is None


async def test_refused_as_sending_would_be(app, client) -> None:
    _, headers = await funded_customer(app, client)
    own = (await client.post("/api/pix-keys", json={"type": "EVP"}, headers=headers)).json()["key"]
    assert (await _preview(client, headers, {"pixKey": own, "amount": 1})).json()["error"] == "SELF_TRANSFER"
    bad = await _preview(client, headers, {"pixKey": "nope", "amount": 1})
    assert (bad.status_code, bad.json()["error"]) == (400, "INVALID_PIX_KEY")
    assert (
        await client.post("/api/transfers/pix/preview", json={"pixKey": own, "amount": 1})
    ).status_code == 401
