"""A RESOLVED ticket nobody answers closes itself after `support_auto_close_days`; a customer's reply keeps
it open (it goes back to IN_PROGRESS), and a second run closes nothing more."""

from __future__ import annotations

from laura.bank.support import tasks
from laura.core.jobs import JobRuntime, bind_runtime
from tests.bank.support_tickets.support import audit_actions, events, move, open_ticket, reply
from tests.helpers import auth_headers, staff_headers
from tests.sql_support import rows, scalar


async def _resolved_days_ago(app, client, staff, headers, days: int) -> str:
    ticket = await open_ticket(client, headers)
    assert (await move(client, staff, ticket["id"], "RESOLVED")).status_code == 200
    await scalar(
        app.state.db,
        "UPDATE support_tickets SET resolved_at = now() - make_interval(days => $2) WHERE id = $1",
        ticket["id"],
        days,
    )
    return ticket["id"]


async def test_auto_close(app, client, settings):
    db = app.state.db
    customer, headers = await auth_headers(client)
    staff = await staff_headers(app, client, "staff")
    stale = await _resolved_days_ago(app, client, staff, headers, 8)
    recent = await _resolved_days_ago(app, client, staff, headers, 6)
    answered = await _resolved_days_ago(app, client, staff, headers, 8)
    assert (await reply(client, headers, answered, "Ainda não funcionou.")).status_code == 201

    with bind_runtime(JobRuntime(db=db, settings=settings)):
        assert await tasks.auto_close(timestamp=0) == 1
        assert await tasks.auto_close(timestamp=0) == 0

    statuses = dict(await rows(db, "SELECT id::text, status FROM support_tickets"))
    assert statuses == {stale: "CLOSED", recent: "RESOLVED", answered: "IN_PROGRESS"}
    assert await scalar(db, "SELECT closed_at IS NOT NULL FROM support_tickets WHERE id = $1", stale)
    closing = [
        e for e in await events(db, "support.status_changed", customer["id"]) if e["ticketId"] == stale
    ]
    assert [(e["previousStatus"], e["status"]) for e in closing] == [
        ("OPEN", "RESOLVED"),
        ("RESOLVED", "CLOSED"),
    ]
    assert (await audit_actions(db, stale))[-1] == "TICKET_STATUS_CHANGED"
    assert (
        await scalar(
            db, "SELECT actor_id FROM audit_logs WHERE resource_id = $1 ORDER BY id DESC LIMIT 1", stale
        )
        is None
    )  # the job, not a person
    assert (await reply(client, headers, stale, "Olá?")).json()["error"] == "TICKET_CLOSED"
