"""`card_authorize` (laura/bank/card_network/sql/authorize.sql) called directly with SQL: each outcome and
what it writes (a declined row and its event, or the hold too, or nothing)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from laura.bank.card_network.outcomes import AuthorizeOutcome, DeclineCode
from laura.bank.transfers.calendar import day_and_month_starts
from tests.bank.card_network.support import IssuedCard, make_card
from tests.bank.support import funded_customer
from tests.sql_support import call, rows, scalar


def _args(app, card: IssuedCard, cents: int, **overrides) -> dict:
    now = datetime.now(UTC)
    day_start, month_start = day_and_month_starts(now)
    macs = app.state.card_macs
    args = {
        "id": uuid.uuid4(),
        "idempotency_key": str(uuid.uuid4()),
        "request_hash": b"h1",
        "number_hash": macs.number_hash(card.number),
        "expiry": card.expiry,
        "cvv_mac": macs.cvv_mac(card.number, card.cvv),
        "cents": cents,
        "currency": "BRL",
        "merchant": "Farmácia Boa Saúde",
        "mcc": "5912",
        "city": "Recife",
        "country": "BR",
        "category": "HEALTH",
        "now": now,
        "day_start": day_start,
        "month_start": month_start,
        "hold_id": uuid.uuid4(),
        "hold_seconds": 3600,
    }
    return {**args, **overrides}


async def _authorize(app, card: IssuedCard, cents: int, **overrides) -> asyncpg.Record:
    return await call(app.state.db, "card_authorize", **_args(app, card, cents, **overrides))


async def _written(app) -> tuple:
    db = app.state.db
    return (
        await scalar(db, "SELECT count(*) FROM card_transactions"),
        await scalar(db, "SELECT count(*) FROM outbox WHERE type LIKE 'card.%' AND type <> 'card.issued'"),
        await scalar(db, "SELECT count(*) FROM ledger_holds"),
    )


async def test_approved_writes_the_hold_the_row_and_the_event(app, client) -> None:
    user, _ = await funded_customer(app, client, "50.00")
    card = await make_card(app, user["id"])
    args = _args(app, card, 12_34)

    row = await call(app.state.db, "card_authorize", **args)

    assert (row["outcome"], row["authorization_id"], row["decline_code"], row["amount_cents"]) == (
        AuthorizeOutcome.APPROVED,
        args["id"],
        None,
        12_34,
    )
    assert str(row["user_id"]) == user["id"]
    assert await _written(app) == (1, 1, 1)
    assert await rows(
        app.state.db,
        "SELECT t.status, t.category, h.status, h.expires_at - l.created_at FROM card_transactions t"
        " JOIN ledger_holds h ON h.transaction_id = t.hold_id JOIN ledger_transactions l ON l.id = h.transaction_id",
    ) == [("AUTHORIZED", "HEALTH", "pending", timedelta(hours=1))]


async def test_insufficient_balance_is_caught_and_recorded_as_a_decline(app, client) -> None:
    user, _ = await funded_customer(app, client, "50.00")
    card = await make_card(app, user["id"])

    row = await _authorize(app, card, 50_01)

    assert (row["outcome"], row["decline_code"]) == (
        AuthorizeOutcome.DECLINED,
        DeclineCode.INSUFFICIENT_BALANCE,
    )
    assert await _written(app) == (1, 1, 0)
    assert (
        await scalar(app.state.db, "SELECT count(*) FROM ledger_transactions WHERE reason LIKE 'CARD%'") == 0
    )


async def test_replay_key_reuse_and_unknown_card_write_nothing(app, client) -> None:
    user, _ = await funded_customer(app, client, "50.00")
    card = await make_card(app, user["id"])
    first = _args(app, card, 10_00)
    await call(app.state.db, "card_authorize", **first)
    before = await _written(app)

    replay = await call(
        app.state.db, "card_authorize", **{**first, "id": uuid.uuid4(), "hold_id": uuid.uuid4()}
    )
    reused = await _authorize(app, card, 10_00, idempotency_key=first["idempotency_key"], request_hash=b"h2")
    unknown = await _authorize(app, card, 10_00, number_hash=b"\x00" * 32)

    assert (replay["outcome"], replay["authorization_id"]) == (AuthorizeOutcome.REPLAYED, first["id"])
    assert (reused["outcome"], reused["authorization_id"]) == (AuthorizeOutcome.KEY_REUSED, None)
    assert unknown["outcome"] == AuthorizeOutcome.CARD_NOT_FOUND
    assert await _written(app) == before


async def test_the_checks_come_in_their_order(app, client) -> None:
    """A card failing several checks is declined for the first: status, expiry, CVV, currency, limits."""
    user, _ = await funded_customer(app, client, "50.00")
    card = await make_card(app, user["id"], status="BLOCKED", daily_limit_cents=1_00)
    bad = {"expiry": "01/20", "cvv_mac": b"x", "currency": "USD"}
    assert (await _authorize(app, card, 2_00, **bad))["decline_code"] == DeclineCode.CARD_BLOCKED
    await scalar(app.state.db, "UPDATE cards SET status = 'ACTIVE'")
    assert (await _authorize(app, card, 2_00, **bad))["decline_code"] == DeclineCode.CARD_EXPIRED
    del bad["expiry"]
    assert (await _authorize(app, card, 2_00, **bad))["decline_code"] == DeclineCode.INVALID_CVV
    del bad["cvv_mac"]
    assert (await _authorize(app, card, 2_00, **bad))["decline_code"] == DeclineCode.CURRENCY_NOT_SUPPORTED
    assert (await _authorize(app, card, 2_00))["decline_code"] == DeclineCode.LIMIT_EXCEEDED
    assert (await _authorize(app, card, 1_00))["decline_code"] is None
