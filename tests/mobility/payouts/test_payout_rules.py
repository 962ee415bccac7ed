"""The rules a payout request meets, over HTTP: a race of twenty requests against a balance for five, the
hold window, the minimum, the daily limit, a recent Pix key change, a suspended driver, and strangers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from laura.mobility.payouts.models import TRANSITIONS, PayoutStatus, can_move
from tests.mobility.payments.support import rows
from tests.mobility.payouts.support import balance, earn, funded_driver, payout, posted
from tests.mobility.support import admin, passenger


@pytest.fixture(autouse=True)
def no_hold_window(app) -> None:
    app.state.settings = app.state.settings.model_copy(update={"driver_earnings_hold_hours": 0})


async def away_from_midnight() -> None:
    """Wait out the last two minutes of a Brasília day, so two requests share one local day."""
    local = datetime.now(ZoneInfo("America/Sao_Paulo"))
    left = (local.replace(hour=23, minute=59, second=59) - local).total_seconds()
    if left < 120:
        await asyncio.sleep(left + 2)


async def test_twenty_concurrent_payouts_against_a_balance_that_covers_five(
    app, client: httpx.AsyncClient
) -> None:
    handle = await funded_driver(app, client, "50.00")

    answers = await asyncio.gather(*(payout(client, handle, "10.00") for _ in range(20)))

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 5 + [400] * 15
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {"INSUFFICIENT_BALANCE"}
    assert await balance(client, handle) == {
        "available": 0.00,
        "onHold": 0.00,
        "pendingPayouts": 50.00,
        "currency": "BRL",
    }
    assert await rows(app, "SELECT count(*), sum(amount_cents) FROM payouts") == [(5, 5000)]
    assert await rows(
        app, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'mobility.payouts.process_payout'"
    ) == [(5,)]
    assert await posted(app, f"2100.{handle.id}") == 5000


async def test_earnings_younger_than_the_hold_window_are_not_available(
    app, client: httpx.AsyncClient
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"driver_earnings_hold_hours": 24})
    handle = await funded_driver(app, client, "80.00")

    assert await balance(client, handle) == {
        "available": 0.00,
        "onHold": 80.00,
        "pendingPayouts": 0.00,
        "currency": "BRL",
    }
    refused = await payout(client, handle, "20.00")
    assert refused.status_code == 400 and refused.json()["error"] == "INSUFFICIENT_BALANCE"
    assert await rows(app, "SELECT count(*) FROM payouts") == [(0,)]


async def test_a_payout_below_the_minimum_is_refused(app, client: httpx.AsyncClient) -> None:
    handle = await funded_driver(app, client, "80.00")

    refused = await payout(client, handle, "9.99")

    assert refused.status_code == 422 and refused.json()["error"] == "PAYOUT_BELOW_MINIMUM"
    assert refused.json()["details"] == {"minimum": "10.00"}
    assert (await balance(client, handle))["available"] == 80.00


async def test_the_daily_limit_counts_the_days_payouts_but_not_failed_ones(
    app, client: httpx.AsyncClient
) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"driver_earnings_hold_hours": 0, "payout_daily_limit": Decimal("100.00")}
    )
    handle = await funded_driver(app, client, "500.00")
    await away_from_midnight()

    assert (await payout(client, handle, "60.00")).status_code == 201
    over = await payout(client, handle, "50.00")
    assert over.status_code == 422 and over.json()["error"] == "PAYOUT_LIMIT_EXCEEDED"
    assert over.json()["details"]["period"] == "daily"
    assert (await payout(client, handle, "40.00")).status_code == 201
    assert (await payout(client, handle, "10.00")).status_code == 422


async def test_a_payout_right_after_a_pix_key_change_waits_a_day_and_is_flagged(
    app, client: httpx.AsyncClient
) -> None:
    handle = await funded_driver(app, client, "80.00")
    changed = await client.patch("/drivers/me", json={"pixKey": "novo@exemplo.com"}, headers=handle.headers)
    assert changed.status_code == 200 and changed.json()["pixKey"] == "novo@exemplo.com"
    [(changed_at,)] = await rows(app, "SELECT pix_key_changed_at FROM drivers WHERE id = :d", d=handle.id)

    answer = await payout(client, handle, "30.00")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "PENDING" and body["pixKey"] == "novo@exemplo.com"
    not_before = changed_at + timedelta(hours=24)
    assert datetime.fromisoformat(body["notBefore"]) == not_before
    assert await rows(
        app, "SELECT scheduled_at FROM procrastinate_jobs WHERE task_name = 'mobility.payouts.process_payout'"
    ) == [(not_before,)]
    assert await rows(app, "SELECT rule, subject_user_id FROM fraud_flags") == [
        ("payout_pix_key_change", uuid.UUID(handle.user["id"]))
    ]
    assert (await balance(client, handle))["pendingPayouts"] == 30.00


async def test_a_driver_who_never_changed_their_key_is_paid_without_delay(
    app, client: httpx.AsyncClient
) -> None:
    handle = await funded_driver(app, client, "80.00")

    body = (await payout(client, handle, "30.00")).json()

    assert body["notBefore"] is None
    assert await rows(app, "SELECT count(*) FROM fraud_flags") == [(0,)]


async def test_a_suspended_driver_cannot_ask_for_a_payout(app, client: httpx.AsyncClient) -> None:
    handle = await funded_driver(app, client, "80.00")
    async with app.state.db.engine.begin() as conn:
        await conn.exec_driver_sql(
            "WITH f AS (INSERT INTO fraud_flags (id, subject_user_id, rule, day)"
            f" VALUES (gen_random_uuid(), '{handle.user['id']}', 'cancellation_suspension', current_date)"
            " RETURNING id, subject_user_id)"
            " INSERT INTO mobility_suspensions (user_id, flag_id, reason, since)"
            " SELECT subject_user_id, id, 'cancellation_suspension', now() FROM f"
        )

    refused = await payout(client, handle, "30.00")

    assert refused.status_code == 403 and refused.json()["error"] == "ACCOUNT_SUSPENDED"
    assert await rows(app, "SELECT count(*) FROM payouts") == [(0,)]


async def test_another_drivers_balance_financials_and_payouts_are_404(app, client: httpx.AsyncClient) -> None:
    owner = await funded_driver(app, client, "80.00")
    other = await funded_driver(app, client, "10.00")
    mine = (await payout(client, owner, "30.00")).json()
    _, rider = await passenger(client)

    for headers in (other.headers, rider):
        for path in (f"/drivers/{owner.id}/balance", f"/drivers/{owner.id}/financials"):
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 404, (path, answer.text)
    assert (await client.get(f"/payouts/{mine['id']}", headers=other.headers)).status_code == 404
    assert (await client.get("/payouts", headers=other.headers)).json()["data"] == []
    assert (await client.get(f"/payouts?driverId={owner.id}", headers=other.headers)).status_code == 404
    staff = await admin(app, client)
    assert (await client.get(f"/drivers/{owner.id}/balance", headers=staff)).json()["pendingPayouts"] == 30.0
    seen = (await client.get(f"/payouts?driverId={owner.id}&status=PENDING", headers=staff)).json()
    assert [p["id"] for p in seen["data"]] == [mine["id"]] and seen["pagination"]["total"] == 1
    assert (await client.get(f"/payouts/{mine['id']}", headers=staff)).status_code == 200
    own = (await client.get("/payouts?status=PENDING", headers=owner.headers)).json()
    assert [p["id"] for p in own["data"]] == [mine["id"]]
    assert (await client.get("/payouts?status=COMPLETED", headers=owner.headers)).json()["data"] == []


async def test_financials_show_todays_earnings_and_a_page_of_the_statement(
    app, client: httpx.AsyncClient
) -> None:
    await away_from_midnight()
    handle = await funded_driver(app, client, "12.50")
    await earn(app, handle, "7.50")

    body = (await client.get("/drivers/me/financials?limit=1", headers=handle.headers)).json()

    assert (body["available"], body["earningsToday"], body["earningsMonth"]) == (20.0, 20.0, 20.0)
    assert body["ridesPaid"] == 2 and body["payoutsMade"] == 0 and body["paidOut"] == 0.00
    assert body["statement"]["total"] == 2 and len(body["statement"]["data"]) == 1
    assert body["statement"]["data"][0]["amount"] == 7.5 and body["statement"]["nextCursor"]


def test_a_payout_moves_only_along_its_state_table() -> None:
    for current in PayoutStatus:
        for new in PayoutStatus:
            assert can_move(current, new) == (new in TRANSITIONS[current])
    assert can_move("PENDING", PayoutStatus.PROCESSING) and not can_move("PENDING", PayoutStatus.COMPLETED)
    assert not can_move("COMPLETED", PayoutStatus.FAILED)


def test_today_is_pinned_in_brasilia() -> None:
    from laura.mobility.payouts.periods import periods

    late_sunday = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)  # Sunday 23:30 in Brasília
    starts = periods(late_sunday, "America/Sao_Paulo")
    assert starts.day == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert starts.week == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert starts.month == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def test_the_weekly_limit_is_checked_as_well(app, client: httpx.AsyncClient) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"driver_earnings_hold_hours": 0, "payout_weekly_limit": Decimal("50.00")}
    )
    handle = await funded_driver(app, client, "500.00")
    await away_from_midnight()

    assert (await payout(client, handle, "30.00")).status_code == 201
    over = await payout(client, handle, "30.00")

    assert over.status_code == 422 and over.json()["details"]["period"] == "weekly"


async def test_the_same_idempotency_key_pays_out_once(app, client: httpx.AsyncClient) -> None:
    handle = await funded_driver(app, client, "80.00")
    headers = {**handle.headers, "Idempotency-Key": uuid.uuid4().hex}

    first = await client.post("/payouts", json={"amount": 30.00}, headers=headers)
    again = await client.post("/payouts", json={"amount": 30.00}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await rows(app, "SELECT count(*) FROM payouts") == [(1,)]
    assert (await balance(client, handle))["available"] == 50.00
