"""`spentToday` and `spentMonth` come from the card's authorizations since Brasília's midnight and the first
of the month: held ones in full, captured ones less refunds, declined and voided ones not at all."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text

from laura.bank.cards.service import spend_windows
from laura.core.models import utcnow
from tests.bank.cards.support import cards, physical, virtual
from tests.helpers import auth_headers

_TICK = timedelta(microseconds=1)


async def _spend(app, card_id, user_id, at: datetime, status, amount, captured=0, refunded=0) -> None:
    async with app.state.db.unit_of_work() as session:
        await session.execute(
            text(
                "INSERT INTO card_transactions (id, card_id, user_id, amount_cents, captured_cents, refunded_cents,"
                " merchant, mcc, category, status, decline_code, idempotency_key, request_hash, created_at)"
                " VALUES (:id, :card, :user, :amount, :captured, :refunded, 'Mercado', '5411', 'FOOD', :status,"
                " :decline, :key, '\\x00', :at)"
            ),
            {
                "id": uuid.uuid4(),
                "card": card_id,
                "user": user_id,
                "amount": amount,
                "captured": captured,
                "refunded": refunded,
                "status": status,
                "decline": "INSUFFICIENT_BALANCE" if status == "DECLINED" else None,
                "key": str(uuid.uuid4()),
                "at": at,
            },
        )


async def test_spent_today_and_this_month_count_approved_authorizations_in_brasilia_time(app, client):
    user, headers = await auth_headers(client)
    card = await physical(client, headers)
    other = (await virtual(client, headers)).json()
    day, month = spend_windows(utcnow())
    spend = lambda at, *a, **k: _spend(app, card["id"], user["id"], at, *a, **k)
    await spend(day, "AUTHORIZED", 10000)  # 100.00 held since midnight
    await spend(day, "CAPTURED", 20000, captured=20000, refunded=5000)  # 150.00
    await spend(day, "REFUNDED", 3000, captured=3000, refunded=3000)  # 0
    await spend(day, "DECLINED", 99900)
    await spend(day, "VOIDED", 7700)
    await spend(day - _TICK, "AUTHORIZED", 3000)  # yesterday: this month unless today is the 1st
    await spend(month - _TICK, "AUTHORIZED", 4000)  # last month
    await _spend(app, other["id"], user["id"], day, "AUTHORIZED", 1234)  # the virtual card's own

    listed = {c["id"]: c for c in await cards(client, headers)}

    assert listed[card["id"]]["spentToday"] == 250.0
    assert listed[card["id"]]["spentMonth"] == (250.0 if day == month else 280.0)
    assert listed[other["id"]]["spentToday"] == listed[other["id"]]["spentMonth"] == 12.34


def test_the_windows_start_at_brasilia_midnight_and_the_first_of_the_month():
    day, month = spend_windows(datetime.fromisoformat("2026-03-01T03:00:01+00:00"))  # 00:00:01 in Brasília
    assert day == month == datetime.fromisoformat("2026-03-01T03:00:00+00:00")
    day, month = spend_windows(
        datetime.fromisoformat("2026-03-01T02:59:59+00:00")
    )  # still Feb 28 in Brasília
    assert day == datetime.fromisoformat("2026-02-28T03:00:00+00:00")
    assert month == datetime.fromisoformat("2026-02-01T03:00:00+00:00")
