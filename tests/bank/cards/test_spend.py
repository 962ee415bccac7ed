"""`spentToday` and `spentMonth` come from the card's authorizations since Brasília's midnight and the first
of the month: held ones in full while their ledger hold is pending, captured ones less refunds, declined,
voided and released ones not at all."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text

from laura.bank.accounts.service import ledger_code
from laura.bank.transfers.calendar import day_and_month_starts
from laura.core.models import utcnow
from laura.ledger import service as ledger
from tests.bank.cards.support import cards, physical, virtual
from tests.bank.support import funded_customer

_TICK = timedelta(microseconds=1)


async def _spend(
    app, card_id, user_id, at: datetime, status, amount, captured=0, refunded=0, released=False
) -> None:
    """A card_transactions row as the network leaves it; an AUTHORIZED one with its ledger hold (released,
    as the hold's expiry would, when `released`)."""
    async with app.state.db.unit_of_work() as session:
        hold = None
        if status == "AUTHORIZED":
            lines = [ledger.Line.debit(ledger_code(user_id), amount), ledger.Line.credit("2200", amount)]
            hold = (await ledger.hold(session, lines, reference=str(uuid.uuid4()), reason="CARD_PURCHASE")).id
            if released:
                await ledger.void_hold(session, hold)
        await session.execute(
            text(
                "INSERT INTO card_transactions (id, card_id, user_id, amount_cents, captured_cents, refunded_cents,"
                " merchant, mcc, category, status, decline_code, hold_id, idempotency_key, request_hash, created_at)"
                " VALUES (:id, :card, :user, :amount, :captured, :refunded, 'Mercado', '5411', 'FOOD', :status,"
                " :decline, :hold, :key, '\\x00', :at)"
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
                "hold": hold,
                "key": str(uuid.uuid4()),
                "at": at,
            },
        )


async def test_spent_today_and_this_month_count_approved_authorizations_in_brasilia_time(app, client):
    user, headers = await funded_customer(app, client, "1000.00")
    card = await physical(client, headers)
    other = (await virtual(client, headers)).json()
    day, month = day_and_month_starts(utcnow())
    spend = lambda at, *a, **k: _spend(app, card["id"], user["id"], at, *a, **k)
    await spend(day, "AUTHORIZED", 10000)  # 100.00 held since midnight
    await spend(day, "CAPTURED", 20000, captured=20000, refunded=5000)  # 150.00
    await spend(day, "REFUNDED", 3000, captured=3000, refunded=3000)  # 0
    await spend(day, "DECLINED", 99900)
    await spend(day, "VOIDED", 7700)
    await spend(day, "AUTHORIZED", 6600, released=True)  # its hold expired: nothing held any more
    await spend(day - _TICK, "AUTHORIZED", 3000)  # yesterday: this month unless today is the 1st
    await spend(month - _TICK, "AUTHORIZED", 4000)  # last month
    await _spend(app, other["id"], user["id"], day, "AUTHORIZED", 1234)  # the virtual card's own

    listed = {c["id"]: c for c in await cards(client, headers)}

    assert listed[card["id"]]["spentToday"] == 250.0
    assert listed[card["id"]]["spentMonth"] == (250.0 if day == month else 280.0)
    assert listed[other["id"]]["spentToday"] == listed[other["id"]]["spentMonth"] == 12.34


def test_the_windows_start_at_brasilia_midnight_and_the_first_of_the_month():
    day, month = day_and_month_starts(
        datetime.fromisoformat("2026-03-01T03:00:01+00:00")
    )  # 00:00:01 in Brasília
    assert day == month == datetime.fromisoformat("2026-03-01T03:00:00+00:00")
    day, month = day_and_month_starts(
        datetime.fromisoformat("2026-03-01T02:59:59+00:00")
    )  # still Feb 28 in Brasília
    assert day == datetime.fromisoformat("2026-02-28T03:00:00+00:00")
    assert month == datetime.fromisoformat("2026-02-01T03:00:00+00:00")
