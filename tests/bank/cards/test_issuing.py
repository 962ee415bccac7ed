"""A customer's account opens with a physical debit card: listed with its limits and nothing spent, sealed
under the newest data key, audited and announced without its number; the demo customers get one too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from stdnum import luhn

from laura.bank.accounts.service import open_checking_account
from laura.bank.cards.keys import key_id
from laura.bank.seed import seed_bank
from laura.bank.transfers.calendar import BRASILIA
from laura.seed import seed_demo
from tests.bank.cards.support import cards, number_of
from tests.helpers import auth_headers


async def test_registering_a_customer_issues_a_physical_card_with_the_settings_limits(app, client, settings):
    user, headers = await auth_headers(client, name="João da Silva Conceição")
    [card] = await cards(client, headers)

    assert card["type"] == "PHYSICAL" and card["status"] == "ACTIVE" and card["brand"] == "VISA"
    assert card["dailyLimit"] == 5000.0 and card["monthlyLimit"] == 50000.0
    assert card["spentToday"] == 0.0 and card["spentMonth"] == 0.0
    assert card["limit"] is None and card["blockedAt"] is None
    now = datetime.now(UTC)
    month, year = card["expiryDate"].split("/")
    assert int(year) == (now.year + settings.card_validity_years) % 100 and 1 <= int(month) <= 12
    assert "number" not in card and "cvv" not in card
    number, cvv = await number_of(app, card["id"])
    assert len(number) == 16 and luhn.is_valid(number) and number.startswith("453211")
    assert number.endswith(card["lastFourDigits"]) and len(cvv) == 3 and cvv.isdigit()
    async with app.state.db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM cards WHERE id = :id"), {"id": card["id"]})).one()
        audit = (
            await conn.execute(
                text(
                    "SELECT new_values::text FROM audit_logs WHERE action = 'CARD_ISSUED' AND resource_id = :id"
                ),
                {"id": card["id"]},
            )
        ).scalar_one()
        event = (
            await conn.execute(text("SELECT data::text, user_ids FROM outbox WHERE type = 'card.issued'"))
        ).one()
    assert row.holder_name == "JOAO DA SILVA CONCEICAO" and row.key_id == key_id(1)
    expires = row.expires_at.astimezone(BRASILIA)  # the last instant of the expiry month, in Brasília
    assert expires.strftime("%m/%y") == card["expiryDate"] and (expires + timedelta(microseconds=1)).day == 1
    assert str(row.user_id) == user["id"] and row.replaces_card_id is None
    assert card["lastFourDigits"] in audit and number not in audit and number not in event.data
    assert [str(u) for u in event.user_ids] == [user["id"]]


async def test_passengers_and_drivers_get_no_card(app, client):
    await auth_headers(client, user_type="passenger")
    async with app.state.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM cards")) == 0


async def test_demo_customers_get_one_card_each_and_seeding_again_adds_none(app, settings):
    await seed_demo(settings)
    await seed_demo(settings)
    async with app.state.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT u.email, count(c.id) FROM users u LEFT JOIN cards c ON c.user_id = u.id"
                    " GROUP BY u.email ORDER BY u.email"
                )
            )
        ).all()
    per_user = dict(rows)
    assert per_user["ana@laura.dev"] == per_user["bruno@laura.dev"] == per_user["carla@laura.dev"] == 1
    assert per_user["diego@laura.dev"] == per_user["paula@laura.dev"] == per_user["admin@laura.dev"] == 0


async def test_the_seed_gives_a_card_to_an_account_opened_before_cards_existed(app, client, settings):
    await auth_headers(client)
    user_id = uuid.uuid4()
    async with app.state.db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO users (id, email, password_hash, name, role, is_active, created_at)"
                " VALUES (:id, :email, 'x', 'Maria Antiga', 'customer', true, now())"
            ),
            {"id": user_id, "email": f"{user_id}@example.com"},
        )
        await open_checking_account(session, user_id, "Maria Antiga")
    await seed_bank(settings)
    await seed_bank(settings)
    async with app.state.db.engine.connect() as conn:
        names = (
            (await conn.execute(text("SELECT holder_name FROM cards WHERE user_id = :id"), {"id": user_id}))
            .scalars()
            .all()
        )
        total = await conn.scalar(text("SELECT count(*) FROM cards"))
    assert names == ["MARIA ANTIGA"] and total == 2
