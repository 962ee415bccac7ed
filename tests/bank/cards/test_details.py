"""Revealing a card's number and CVV: only with a one-time code, the number the one shown at creation,
never cached, audited with who, which card and the IP but not the number; another's card is 404 before
any code is looked at."""

from __future__ import annotations

from sqlalchemy import text
from stdnum import luhn

from tests.bank.cards.support import enrolled, next_code, number_of, physical, reveal, virtual
from tests.helpers import auth_headers


async def test_a_virtual_cards_details_match_its_creation_with_a_totp_code(app, client):
    user, headers = await auth_headers(client)
    made = (await virtual(client, headers)).json()
    totp = await enrolled(client, headers)

    missing = await reveal(client, headers, made["id"], None)
    assert missing.status_code == 401 and missing.json()["error"] == "VERIFICATION_REQUIRED"
    wrong = await reveal(client, headers, made["id"], "000000" if next_code(totp) != "000000" else "111111")
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_VERIFICATION_CODE"
    shown = await reveal(client, headers, made["id"], next_code(totp))

    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    body = shown.json()
    assert body["number"] == made["number"] and body["cvv"] == made["cvv"] and body["id"] == made["id"]
    assert luhn.is_valid(body["number"].replace(" ", "")) and body["holderName"] == "TEST USER"
    async with app.state.db.engine.connect() as conn:
        audit = (
            await conn.execute(
                text(
                    "SELECT actor_id::text, resource_id, ip, new_values::text FROM audit_logs"
                    " WHERE action = 'CARD_DETAILS_REVEALED'"
                )
            )
        ).all()
    assert len(audit) == 1
    actor, resource, ip, new = audit[0]
    assert (actor, resource) == (user["id"], made["id"]) and ip
    assert made["number"].replace(" ", "") not in new and made["number"] not in new and made["cvv"] not in new


async def test_a_physical_cards_details_are_its_sealed_number(app, client):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    totp = await enrolled(client, headers)
    shown = await reveal(client, headers, card["id"], next_code(totp))
    assert shown.status_code == 200, shown.text
    number, cvv = await number_of(app, card["id"])
    assert shown.json()["number"].replace(" ", "") == number and shown.json()["cvv"] == cvv
    assert shown.json()["expiryDate"] == card["expiryDate"]


async def test_another_customers_card_is_404_and_spends_no_code(app, client):
    _, owner = await auth_headers(client)
    card = await physical(client, owner)
    other, other_headers = await auth_headers(client)
    totp = await enrolled(client, other_headers)
    for code in (None, "123456", next_code(totp)):
        response = await reveal(client, other_headers, card["id"], code)
        assert response.status_code == 404 and response.json()["error"] == "CARD_NOT_FOUND"
    async with app.state.db.engine.connect() as conn:
        guard = await conn.scalar(
            text("SELECT failures FROM otp_guards WHERE user_id = :u"), {"u": other["id"]}
        )
        revealed = await conn.scalar(
            text("SELECT count(*) FROM audit_logs WHERE action = 'CARD_DETAILS_REVEALED'")
        )
    assert not guard and revealed == 0
    # the code offered for someone else's card is still good for the caller's own
    mine = await physical(client, other_headers)
    assert (await reveal(client, other_headers, mine["id"], next_code(totp))).status_code == 200
