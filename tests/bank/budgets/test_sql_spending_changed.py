"""`budgets_spending_changed` called with SQL: each answer and what it wrote; and the lock it takes, which
makes a check wait for a spending write that enqueued it but has not committed yet."""

from __future__ import annotations

import asyncio
import uuid

from laura.bank.budgets import alerts as budget_alerts
from laura.core.db import commit, execute, fetchval
from laura.core.jobs import JobRuntime, bind_runtime
from laura.core.models import utcnow
from tests.bank.budgets.support import alerts, created, customer_with_card
from tests.helpers import auth_headers
from tests.sql_support import rows, scalar

_WAITING = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
_JOBS = "SELECT task_name, status::text, lock, queueing_lock, args FROM procrastinate_jobs ORDER BY id"


async def test_no_live_budget_answers_false_and_writes_nothing(app, client) -> None:
    user, headers = await auth_headers(client)
    assert await scalar(app.state.db, "SELECT budgets_spending_changed($1)", uuid.UUID(user["id"])) is False
    budget = await created(client, headers)
    await client.delete(f"/api/budgets/{budget['id']}", headers=headers)
    await scalar(app.state.db, "DELETE FROM procrastinate_jobs")

    assert await scalar(app.state.db, "SELECT budgets_spending_changed($1)", uuid.UUID(user["id"])) is False
    assert await rows(app.state.db, _JOBS) == []


async def test_a_live_budget_enqueues_one_waiting_check(app, client) -> None:
    user, headers = await auth_headers(client)
    await created(client, headers)  # its creation enqueued the first check
    lock = f"budgets:{user['id']}"

    for _ in range(3):
        assert (
            await scalar(app.state.db, "SELECT budgets_spending_changed($1)", uuid.UUID(user["id"])) is True
        )

    assert await rows(app.state.db, _JOBS) == [
        ("bank.budgets_check", "todo", lock, lock, {"user_id": user["id"]})
    ]


async def test_a_check_waits_for_the_spending_write_that_enqueued_it(app, client, settings) -> None:
    user, headers, card = await customer_with_card(app, client)
    await created(client, headers, limit=100.00)
    user_id = uuid.UUID(user["id"])
    db = app.state.db
    async with db.sessionmaker() as writer:  # a spending write, enqueued and not committed yet
        assert await fetchval(writer, "SELECT budgets_spending_changed($1)", user_id) is True
        await execute(
            writer,
            "INSERT INTO card_transactions (id, card_id, user_id, amount_cents, captured_cents, merchant, mcc,"
            " category, status, idempotency_key, request_hash)"
            " VALUES ($1, $2, $3, 6000, 6000, 'Restaurante', '5812', 'FOOD', 'CAPTURED', $4, '\\x00')",
            uuid.uuid4(),
            card.id,
            user_id,
            str(uuid.uuid4()),
        )

        async def check() -> list:
            with bind_runtime(JobRuntime(db=db, settings=settings)):
                async with db.unit_of_work() as session:
                    return await budget_alerts.check(session, user_id, utcnow())

        checking = asyncio.create_task(check())
        while not await scalar(
            db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ):
            assert not checking.done(), "the check did not wait for the write's lock"
            await asyncio.sleep(0.01)
        await commit(writer)

    sent = await checking
    assert [(a["threshold"], a["spent"]) for a in sent] == [(50, "60.00")]
    assert len(await alerts(app, user["id"])) == 1
