"""The staff desk: the queue by SLA, assignment, the status workflow, staff answers and what the customer
is told, the audit trail, and the SLA's `overdue`."""

from __future__ import annotations

import asyncio

from laura.core.db import Database
from tests.bank.support_tickets.support import audit_actions, events, move, open_ticket, reply
from tests.helpers import auth_headers, staff_headers
from tests.sql_support import scalar


async def _me(client, headers) -> str:
    return (await client.get("/auth/me", headers=headers)).json()["id"]


async def _status(client, headers, ticket_id: str) -> str:
    return (await client.get(f"/api/support/tickets/{ticket_id}", headers=headers)).json()["status"]


async def _past_due(db: Database, ticket_id: str) -> None:
    await scalar(
        db,
        "UPDATE support_tickets SET first_response_due_at = created_at - interval '1 minute' WHERE id = $1",
        ticket_id,
    )


async def test_the_whole_workflow(app, client):
    db = app.state.db
    customer, headers = await auth_headers(client)
    staff = await staff_headers(app, client, "staff")
    colleague = await staff_headers(app, client, "staff")
    colleague_id = await _me(client, colleague)

    low = await open_ticket(client, headers, priority="LOW", category="OTHER")
    urgent = await open_ticket(client, headers, priority="URGENT", category="TRANSFER")
    queue = (await client.get("/api/support/queue", headers=staff)).json()
    assert [t["id"] for t in queue["data"]] == [urgent["id"], low["id"]]  # by SLA deadline, not age
    assert queue["data"][0]["userId"] == customer["id"]
    only_low = (await client.get("/api/support/queue?priority=LOW", headers=staff)).json()
    assert [t["id"] for t in only_low["data"]] == [low["id"]]

    ticket_id = urgent["id"]
    assigned = await client.post(
        f"/api/support/tickets/{ticket_id}/assign", json={"staffId": colleague_id}, headers=staff
    )
    assert assigned.status_code == 200 and assigned.json()["assignedTo"] == colleague_id
    mine = (await client.get(f"/api/support/queue?assignedTo={colleague_id}", headers=colleague)).json()
    assert [t["id"] for t in mine["data"]] == [ticket_id]
    not_staff = await client.post(
        f"/api/support/tickets/{ticket_id}/assign", json={"staffId": customer["id"]}, headers=staff
    )
    assert not_staff.status_code == 422 and not_staff.json()["error"] == "STAFF_NOT_FOUND"

    assert (await move(client, colleague, ticket_id, "IN_PROGRESS")).json()["status"] == "IN_PROGRESS"
    answer = await reply(client, colleague, ticket_id, "Estamos verificando a transferência.")
    assert answer.status_code == 201 and answer.json()["authorType"] == "STAFF"
    detail = (await client.get(f"/api/support/tickets/{ticket_id}", headers=headers)).json()
    assert detail["firstResponseAt"] is not None and detail["overdue"] is False

    assert (await move(client, colleague, ticket_id, "WAITING")).json()["status"] == "WAITING"
    back = await reply(client, headers, ticket_id, "Segue o comprovante.")
    assert back.status_code == 201 and back.json()["authorType"] == "USER"
    assert await _status(client, headers, ticket_id) == "IN_PROGRESS"  # the customer's reply

    resolved = (await move(client, colleague, ticket_id, "RESOLVED")).json()
    assert resolved["status"] == "RESOLVED" and resolved["resolvedAt"] is not None
    closed = (await move(client, colleague, ticket_id, "CLOSED")).json()
    assert closed["status"] == "CLOSED" and closed["closedAt"] is not None

    for refused in (
        await reply(client, headers, ticket_id, "mais uma coisa"),
        await reply(client, colleague, ticket_id, "mais uma coisa"),
        await move(client, colleague, ticket_id, "IN_PROGRESS"),
    ):
        assert refused.status_code == 409 and refused.json()["error"] == "TICKET_CLOSED"

    told = await events(db, "support.status_changed", customer["id"])
    assert [(e["previousStatus"], e["status"]) for e in told] == [
        ("OPEN", "IN_PROGRESS"),
        ("IN_PROGRESS", "WAITING"),
        ("WAITING", "IN_PROGRESS"),
        ("IN_PROGRESS", "RESOLVED"),
        ("RESOLVED", "CLOSED"),
    ]
    [message_event] = await events(db, "support.message", customer["id"])
    assert message_event["messageId"] == answer.json()["id"] and message_event["number"] == urgent["number"]
    assert "Estamos" not in str(message_event)
    assert await audit_actions(db, ticket_id) == [
        "TICKET_CREATED",
        "TICKET_ASSIGNED",
        *["TICKET_STATUS_CHANGED"] * 5,
    ]
    default_queue = (await client.get("/api/support/queue", headers=staff)).json()
    assert [t["id"] for t in default_queue["data"]] == [low["id"]]  # CLOSED ones only when asked for
    asked = (await client.get("/api/support/queue?status=CLOSED", headers=staff)).json()
    assert [t["id"] for t in asked["data"]] == [ticket_id]


async def test_a_move_outside_the_table_is_409_and_changes_nothing(app, client):
    _, headers = await auth_headers(client)
    staff = await staff_headers(app, client, "staff")
    ticket = await open_ticket(client, headers)
    refused = await move(client, staff, ticket["id"], "WAITING")
    assert refused.status_code == 409 and refused.json()["error"] == "INVALID_TICKET_TRANSITION"
    assert await _status(client, headers, ticket["id"]) == "OPEN"
    same = await move(client, staff, ticket["id"], "OPEN")
    assert same.status_code == 200 and same.json()["status"] == "OPEN"
    assert await audit_actions(app.state.db, ticket["id"]) == ["TICKET_CREATED"]


async def test_admins_work_the_desk_too(app, client):
    _, headers = await auth_headers(client)
    admin = await staff_headers(app, client, "admin")
    ticket = await open_ticket(client, headers)
    assert (await client.get("/api/support/queue", headers=admin)).status_code == 200
    assert (await reply(client, admin, ticket["id"], "Olá!")).json()["authorType"] == "STAFF"


async def test_overdue_until_answered_and_late_once_answered_late(app, client):
    _, headers = await auth_headers(client)
    staff = await staff_headers(app, client, "staff")
    ticket = await open_ticket(client, headers)
    await _past_due(app.state.db, ticket["id"])
    [queued] = (await client.get("/api/support/queue", headers=staff)).json()["data"]
    assert queued["overdue"] is True and queued["firstResponseAt"] is None
    await reply(client, headers, ticket["id"], "Alguém?")  # a customer message is no answer
    assert (await client.get("/api/support/tickets", headers=headers)).json()["data"][0]["overdue"] is True
    await reply(client, staff, ticket["id"], "Desculpe a demora.")
    [answered] = (await client.get("/api/support/queue", headers=staff)).json()["data"]
    assert answered["firstResponseAt"] is not None and answered["overdue"] is True

    on_time = await open_ticket(client, headers)
    await reply(client, staff, on_time["id"], "Olá!")
    detail = (await client.get(f"/api/support/tickets/{on_time['id']}", headers=headers)).json()
    assert detail["firstResponseAt"] is not None and detail["overdue"] is False


async def test_staffs_first_reply_takes_an_open_ticket_in_progress_and_is_audited(app, client):
    customer, headers = await auth_headers(client)
    staff = await staff_headers(app, client, "staff")
    ticket = await open_ticket(client, headers)
    await reply(client, headers, ticket["id"], "Mais um detalhe.")  # the customer's own words move nothing
    assert await _status(client, headers, ticket["id"]) == "OPEN"
    await reply(client, staff, ticket["id"], "Olá! Já estou vendo.")
    assert await _status(client, headers, ticket["id"]) == "IN_PROGRESS"
    told = await events(app.state.db, "support.status_changed", customer["id"])
    assert [(e["previousStatus"], e["status"]) for e in told] == [("OPEN", "IN_PROGRESS")]
    assert await audit_actions(app.state.db, ticket["id"]) == ["TICKET_CREATED", "TICKET_STATUS_CHANGED"]


async def test_a_reply_and_a_status_change_sent_together_apply_one_after_the_other(app, client):
    customer, headers = await auth_headers(client)
    staff = await staff_headers(app, client, "staff")
    ticket = await open_ticket(client, headers)
    for status in ("IN_PROGRESS", "WAITING"):
        assert (await move(client, staff, ticket["id"], status)).status_code == 200

    answered, resolved = await asyncio.gather(
        reply(client, headers, ticket["id"], "Segue o que faltava."),
        move(client, staff, ticket["id"], "RESOLVED"),
    )
    assert (answered.status_code, resolved.status_code) == (201, 200)
    final = await _status(client, headers, ticket["id"])
    moves = [
        (e["previousStatus"], e["status"])
        for e in await events(app.state.db, "support.status_changed", customer["id"])
    ]
    assert moves[:2] == [("OPEN", "IN_PROGRESS"), ("IN_PROGRESS", "WAITING")]
    assert moves[2:] in (
        [("WAITING", "IN_PROGRESS"), ("IN_PROGRESS", "RESOLVED")],  # the reply first
        [("WAITING", "RESOLVED"), ("RESOLVED", "IN_PROGRESS")],  # the change first: the reply reopens it
    )
    assert final == moves[-1][1]
