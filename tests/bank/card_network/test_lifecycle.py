"""Capture, void and refund over HTTP, with the ledger balanced and the customer's balance and available
amount right at every step; wrong states; concurrent retries; the hold's expiry and the card task."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from laura.bank.card_network import tasks
from laura.core.db import execute
from laura.core.jobs import JobRuntime, bind_runtime
from laura.ledger import service as ledger
from tests.bank.card_network.support import (
    authorize,
    card_rows,
    change,
    make_card,
    money,
    purchase,
    settlement,
    verify_clean,
)
from tests.bank.support import funded_customer
from tests.sql_support import rows, scalar


async def _approved(app, client, balance: str, amount: str):
    user, _ = await funded_customer(app, client, balance)
    card = await make_card(app, user["id"])
    answer = await authorize(client, purchase(card, amount))
    assert answer["approved"] is True
    return user, card, answer["authorizationId"]


async def test_authorize_capture_refund_keeps_the_ledger_and_the_balances_right(app, client) -> None:
    user, _card, auth = await _approved(app, client, "200.00", "80.00")
    assert await money(app, user["id"]) == (Decimal("200.00"), Decimal("120.00"))

    captured = await change(client, auth, "capture")
    assert captured.status_code == 200, captured.text
    assert captured.json() == {
        "authorizationId": auth,
        "status": "CAPTURED",
        "amount": 80.0,
        "capturedAmount": 80.0,
        "refundedAmount": 0.0,
    }
    assert await money(app, user["id"]) == (Decimal("120.00"), Decimal("120.00"))
    assert await settlement(app) == (Decimal("80.00"), Decimal(0))
    await verify_clean(app)

    partial = await change(client, auth, "refund", {"amount": 30.00, "idempotencyKey": "r-1"})
    assert partial.json()["status"] == "CAPTURED" and partial.json()["refundedAmount"] == 30.0
    assert await money(app, user["id"]) == (Decimal("150.00"), Decimal("150.00"))

    rest = await change(client, auth, "refund", {"amount": 50.00})
    assert rest.json()["status"] == "REFUNDED" and rest.json()["refundedAmount"] == 80.0
    assert await money(app, user["id"]) == (Decimal("200.00"), Decimal("200.00"))
    assert await settlement(app) == (Decimal(0), Decimal(0))
    await verify_clean(app)

    more = await change(client, auth, "refund", {"amount": 0.01})
    assert more.status_code == 409 and more.json()["error"] == "INVALID_AUTHORIZATION_STATE"
    events = await rows(
        app.state.db, "SELECT type FROM outbox WHERE type LIKE 'card.%' AND type <> 'card.issued' ORDER BY id"
    )
    assert [e[0] for e in events] == ["card.authorized", "card.captured", "card.refunded", "card.refunded"]
    postings = await rows(
        app.state.db,
        "SELECT kind, amount FROM ledger_transactions WHERE reason LIKE 'CARD%' ORDER BY created_at, id",
    )
    assert postings == [("hold", 80_00), ("hold_post", 80_00), ("posting", 30_00), ("posting", 50_00)]


async def test_a_partial_capture_releases_the_rest(app, client) -> None:
    user, card, auth = await _approved(app, client, "100.00", "60.00")

    captured = await change(client, auth, "capture", {"amount": 45.50})

    assert captured.json()["capturedAmount"] == 45.5
    assert await money(app, user["id"]) == (Decimal("54.50"), Decimal("54.50"))
    again = await change(client, auth, "capture", {"amount": 45.50})
    assert again.status_code == 200 and again.json() == captured.json()
    other = await change(client, auth, "capture", {"amount": 10.00})
    assert other.status_code == 409 and other.json()["error"] == "ALREADY_CAPTURED"
    refund = await change(client, auth, "refund", {"amount": 45.51})
    assert refund.status_code == 422 and refund.json()["error"] == "AMOUNT_EXCEEDED"
    assert await card_rows(app, card) == [("CAPTURED", None, 60_00, 45_50, 0)]
    await verify_clean(app)


async def test_a_capture_above_the_authorized_amount_is_refused(app, client) -> None:
    user, _, auth = await _approved(app, client, "100.00", "60.00")

    response = await change(client, auth, "capture", {"amount": 60.01})

    assert response.status_code == 422 and response.json()["error"] == "AMOUNT_EXCEEDED"
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("40.00"))


async def test_void_releases_the_hold_and_wrong_states_are_409(app, client) -> None:
    user, _card, auth = await _approved(app, client, "100.00", "60.00")

    voided = await change(client, auth, "void")
    assert voided.json()["status"] == "VOIDED"
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("100.00"))
    assert (await change(client, auth, "void")).json() == voided.json()
    for action, body in (("capture", {}), ("refund", {"amount": 1.00})):
        response = await change(client, auth, action, body)
        assert response.status_code == 409 and response.json()["details"] == {"status": "VOIDED"}

    _, _, captured = await _approved(app, client, "100.00", "10.00")
    await change(client, captured, "capture")
    response = await change(client, captured, "void")
    assert response.status_code == 409 and response.json()["details"] == {"status": "CAPTURED"}
    unknown = await change(client, "00000000-0000-0000-0000-000000000000", "void")
    assert unknown.status_code == 404 and unknown.json()["error"] == "AUTHORIZATION_NOT_FOUND"
    await verify_clean(app)


async def test_concurrent_captures_and_keyed_refunds_happen_once(app, client) -> None:
    user, card, auth = await _approved(app, client, "100.00", "60.00")

    captures = await asyncio.gather(*(change(client, auth, "capture") for _ in range(5)))
    assert {r.status_code for r in captures} == {200}
    refunds = await asyncio.gather(
        *(change(client, auth, "refund", {"amount": 20.00, "idempotencyKey": "once"}) for _ in range(5))
    )
    assert {r.status_code for r in refunds} == {200}

    assert await card_rows(app, card) == [("CAPTURED", None, 60_00, 60_00, 20_00)]
    assert await money(app, user["id"]) == (Decimal("60.00"), Decimal("60.00"))
    await verify_clean(app)


async def test_an_uncaptured_authorization_expires_with_its_hold(app, client, settings) -> None:
    user, card, auth = await _approved(app, client, "100.00", "60.00")
    db = app.state.db
    async with db.unit_of_work() as session:  # a hold's expiry never changes: its guard trigger is off here
        await execute(session, "SET LOCAL session_replication_role = replica")
        await execute(
            session, "UPDATE ledger_holds SET expires_at = $1", datetime.now(UTC) - timedelta(seconds=1)
        )

    refused = await change(client, auth, "capture")
    assert refused.status_code == 409 and refused.json()["error"] == "AUTHORIZATION_EXPIRED"
    async with db.unit_of_work() as session:
        assert await ledger.expire_holds(session) == 1
    # released: the card's spend no longer counts it, before the card task has run
    assert await scalar(db, "SELECT card_spent_cents($1, '-infinity')", card.id) == 0
    assert await money(app, user["id"]) == (Decimal("100.00"), Decimal("100.00"))
    with bind_runtime(JobRuntime(db=db, settings=settings)):
        assert await tasks.void_released(timestamp=0) == 1
        assert await tasks.void_released(timestamp=0) == 0

    assert await card_rows(app, card) == [("VOIDED", None, 60_00, 0, 0)]
    assert (await change(client, auth, "void")).json()["status"] == "VOIDED"
    await verify_clean(app)
