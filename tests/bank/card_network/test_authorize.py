"""POST /api/card-network/authorizations over HTTP: approvals hold the money, every decline code leaves the
balance as it was and is recorded, limits, idempotency (also concurrent) and the 50-purchases race."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from laura.bank.card_network.outcomes import DeclineCode
from tests.bank.card_network.support import (
    NETWORK,
    authorize,
    card_rows,
    make_card,
    money,
    purchase,
    settlement,
    verify_clean,
)
from tests.bank.support import funded_customer
from tests.sql_support import rows, scalar


async def test_an_approval_holds_the_amount_and_records_the_authorization(app, client) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])

    answer = await authorize(client, purchase(card, "30.50"))

    assert answer["approved"] is True and "declineCode" not in answer
    assert Decimal(str(answer["amount"])) == Decimal("30.50")
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("69.50"))
    assert await settlement(app) == (Decimal(0), Decimal("30.50"))
    assert await rows(
        app.state.db,
        "SELECT id::text, status, category, mcc, merchant, hold_id IS NOT NULL FROM card_transactions",
    ) == [(answer["authorizationId"], "AUTHORIZED", "FOOD", "5411", "Supermercado Pão Dourado", True)]
    events = await rows(
        app.state.db, "SELECT type, data::text FROM outbox WHERE type LIKE 'card.%' AND type <> 'card.issued'"
    )
    assert [e[0] for e in events] == ["card.authorized"]
    assert card.number not in events[0][1] and events[0][1].count(card.number[-4:]) == 1
    await verify_clean(app)


@pytest.mark.parametrize(
    ("make", "body", "code"),
    [
        ({"status": "BLOCKED"}, {}, DeclineCode.CARD_BLOCKED),
        ({"status": "LOST"}, {}, DeclineCode.CARD_BLOCKED),
        ({"status": "CANCELLED", "type": "VIRTUAL", "limit_cents": 1_000_00}, {}, DeclineCode.CARD_BLOCKED),
        ({"expires_at": datetime.now(UTC) - timedelta(days=1)}, {}, DeclineCode.CARD_EXPIRED),
        ({}, {"expiry": "01/20"}, DeclineCode.CARD_EXPIRED),
        ({}, {"cvv": "000"}, DeclineCode.INVALID_CVV),
        ({}, {"currency": "USD"}, DeclineCode.CURRENCY_NOT_SUPPORTED),
        ({}, {"amount": 100.01}, DeclineCode.INSUFFICIENT_BALANCE),
        ({"daily_limit_cents": 50_00}, {"amount": 50.01}, DeclineCode.LIMIT_EXCEEDED),
    ],
)
async def test_each_decline_moves_nothing_and_is_recorded(app, client, make, body, code) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"], **make)
    body = dict(body)
    if body.get("cvv") == card.cvv:
        body["cvv"] = "001"
    amount = str(body.pop("amount", "20.00"))

    answer = await authorize(client, purchase(card, amount, **body))

    assert (answer["approved"], answer["declineCode"]) == (False, code)
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("100.00"))
    assert await card_rows(app, card) == [("DECLINED", code, to_cents(answer["amount"]), 0, 0)]
    assert await scalar(app.state.db, "SELECT count(*) FROM ledger_holds") == 0
    assert (
        await scalar(
            app.state.db, "SELECT type FROM outbox WHERE type LIKE 'card.%' AND type <> 'card.issued'"
        )
        == "card.declined"
    )


def to_cents(amount: float) -> int:
    return int(Decimal(str(amount)) * 100)


async def test_an_account_that_is_not_active_declines(app, client) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])
    await scalar(app.state.db, "UPDATE bank_accounts SET status = 'BLOCKED' WHERE user_id = $1", card.user_id)

    answer = await authorize(client, purchase(card, "10.00"))

    assert answer["declineCode"] == DeclineCode.ACCOUNT_NOT_ACTIVE
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("100.00"))


async def test_without_a_cvv_the_rest_is_still_checked(app, client) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])

    assert (await authorize(client, purchase(card, "10.00", cvv=None)))["approved"] is True


async def test_an_unknown_card_is_404_and_records_nothing(app, client) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])

    response = await client.post(
        "/api/card-network/authorizations",
        json=purchase(card, "10.00", cardNumber="4532110000000000"),
        headers=NETWORK,
    )

    assert response.status_code == 404 and response.json()["error"] == "CARD_NOT_FOUND"
    assert "4532110000000000" not in response.text
    assert await scalar(app.state.db, "SELECT count(*) FROM card_transactions") == 0


async def test_the_daily_and_monthly_limits_count_what_is_held_and_captured(app, client) -> None:
    user, _ = await funded_customer(app, client, "1000.00")
    card = await make_card(app, user["id"], daily_limit_cents=100_00, monthly_limit_cents=150_00)

    assert (await authorize(client, purchase(card, "60.00")))["approved"] is True
    assert (await authorize(client, purchase(card, "40.01")))["declineCode"] == DeclineCode.LIMIT_EXCEEDED
    assert (await authorize(client, purchase(card, "40.00")))["approved"] is True
    # yesterday's spending counts for the month, not for the day
    await scalar(app.state.db, "UPDATE card_transactions SET created_at = created_at - interval '1 day'")
    assert (await authorize(client, purchase(card, "50.01")))["declineCode"] == DeclineCode.LIMIT_EXCEEDED
    assert (await authorize(client, purchase(card, "50.00")))["approved"] is True
    assert await money(app, user["id"]) == (Decimal("1000.00"), Decimal("850.00"))


async def test_a_virtual_card_keeps_its_limit_over_its_life(app, client) -> None:
    user, _ = await funded_customer(app, client, "1000.00")
    card = await make_card(app, user["id"], type="VIRTUAL", limit_cents=100_00)
    await authorize(client, purchase(card, "70.00"))
    await scalar(app.state.db, "UPDATE card_transactions SET created_at = created_at - interval '60 days'")

    assert (await authorize(client, purchase(card, "30.01")))["declineCode"] == DeclineCode.LIMIT_EXCEEDED
    assert (await authorize(client, purchase(card, "30.00")))["approved"] is True


async def test_the_same_key_replays_the_first_answer_and_another_body_is_refused(app, client) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])
    body = purchase(card, "80.00", key="net-1")
    first = await authorize(client, body)
    declined = await authorize(client, purchase(card, "80.00", key="net-2"))

    assert await authorize(client, body) == first
    assert await authorize(client, purchase(card, "80.00", key="net-2")) == declined
    other = await client.post(
        "/api/card-network/authorizations", json={**body, "amount": 1.00}, headers=NETWORK
    )
    assert other.status_code == 422 and other.json()["error"] == "IDEMPOTENCY_KEY_REUSED"
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("20.00"))
    assert len(await card_rows(app, card)) == 2


async def test_the_same_key_ten_times_at_once_holds_once_and_answers_alike(app, client) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])
    body = purchase(card, "25.00", key=f"burst-{uuid.uuid4()}")

    answers = await asyncio.gather(*(authorize(client, body) for _ in range(10)))

    assert all(answer == answers[0] for answer in answers) and answers[0]["approved"] is True
    assert await scalar(app.state.db, "SELECT count(*) FROM ledger_holds") == 1
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("75.00"))


async def test_fifty_purchases_at_once_on_a_balance_for_ten_approve_exactly_ten(app, client) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])

    answers = await asyncio.gather(*(authorize(client, purchase(card, "10.00")) for _ in range(50)))

    declines = [answer.get("declineCode") for answer in answers]
    assert declines.count(None) == 10
    assert declines.count(DeclineCode.INSUFFICIENT_BALANCE) == 40
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("0.00"))
    assert (
        await scalar(app.state.db, "SELECT count(*) FROM card_transactions WHERE status = 'AUTHORIZED'") == 10
    )
    await verify_clean(app)


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}, {"X-Api-Key": ""}])
async def test_every_network_route_needs_a_valid_key(app, client, headers) -> None:
    user, _ = await funded_customer(app, client, "100.00")
    card = await make_card(app, user["id"])
    approved = await authorize(client, purchase(card, "10.00"))
    some_id = approved["authorizationId"]

    for path, body in [
        ("/api/card-network/authorizations", purchase(card, "10.00")),
        (f"/api/card-network/authorizations/{some_id}/capture", {}),
        (f"/api/card-network/authorizations/{some_id}/void", {}),
        (f"/api/card-network/authorizations/{some_id}/refund", {"amount": 1.00}),
    ]:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"] == "INVALID_API_KEY"
    assert await card_rows(app, card) == [("AUTHORIZED", None, 10_00, 0, 0)]
