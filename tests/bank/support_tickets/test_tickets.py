"""A customer's tickets: opening one, the list and its filters, messages, and what others see (nothing)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from laura.bank.support.repository import SupportRepository
from laura.bank.transfers.calendar import brasilia_day
from laura.core.models import utcnow
from tests.bank.support_tickets.support import PNG, count, open_ticket, reply, upload
from tests.helpers import auth_headers, staff_headers


async def test_open_a_ticket_numbered_for_the_year_with_its_sla(client):
    _, headers = await auth_headers(client)
    before = utcnow()
    ticket = await open_ticket(client, headers, priority="HIGH")
    year = brasilia_day(before).year
    assert ticket["number"] == f"TKT-{year}-00001"
    assert (ticket["status"], ticket["category"], ticket["priority"]) == ("OPEN", "CARD", "HIGH")
    created = datetime.fromisoformat(ticket["createdAt"])
    assert datetime.fromisoformat(ticket["firstResponseDueAt"]) - created == timedelta(hours=4)
    assert ticket["overdue"] is False and ticket["attachments"] == []
    second = await open_ticket(client, headers, priority="URGENT")
    assert second["number"] == f"TKT-{year}-00002"
    assert datetime.fromisoformat(second["firstResponseDueAt"]) - datetime.fromisoformat(
        second["createdAt"]
    ) == timedelta(hours=1)


async def test_unknown_category_is_400_and_nothing_is_written(app, client):
    _, headers = await auth_headers(client)
    response = await client.post(
        "/api/support/tickets",
        json={"category": "LOANS", "priority": "LOW", "subject": "x", "description": "y"},
        headers=headers,
    )
    assert response.status_code == 400 and response.json()["error"] == "INVALID_CATEGORY"
    assert await count(app.state.db, "support_tickets") == 0
    assert await count(app.state.db, "support_ticket_counters") == 0


async def test_fifty_tickets_at_once_get_fifty_consecutive_numbers(client):
    _, headers = await auth_headers(client)
    bodies = [
        {"category": "OTHER", "priority": "LOW", "subject": f"#{n}", "description": "concorrência"}
        for n in range(50)
    ]
    responses = await asyncio.gather(
        *(client.post("/api/support/tickets", json=body, headers=headers) for body in bodies)
    )
    assert [r.status_code for r in responses] == [201] * 50
    numbers = sorted(int(r.json()["number"].rsplit("-", 1)[1]) for r in responses)
    assert numbers == list(range(1, 51))


async def test_a_refused_ticket_takes_no_number_and_a_rollback_gives_one_back(app, client):
    _, headers = await auth_headers(client)
    first = await open_ticket(client, headers)
    refused = await client.post(
        "/api/support/tickets",
        json={
            "category": "CARD",
            "priority": "LOW",
            "subject": "x",
            "description": "y",
            "attachments": [str(uuid.uuid4())],
        },
        headers=headers,
    )
    assert refused.status_code == 404 and refused.json()["error"] == "FILE_NOT_FOUND"
    year = int(first["number"].split("-")[1])
    with pytest.raises(RuntimeError):
        async with app.state.db.unit_of_work() as session:
            assert await SupportRepository(session).next_number(year) == 2
            raise RuntimeError("the creating transaction fails after taking its number")
    second = await open_ticket(client, headers)
    assert second["number"] == f"TKT-{year}-00002"


async def test_list_is_the_callers_own_newest_first_with_filters(client):
    _, headers = await auth_headers(client)
    _, other = await auth_headers(client)
    low = await open_ticket(client, headers, priority="LOW")
    high = await open_ticket(client, headers, priority="HIGH")
    await open_ticket(client, other)

    listed = (await client.get("/api/support/tickets", headers=headers)).json()
    assert [t["id"] for t in listed["data"]] == [high["id"], low["id"]]
    assert listed["pagination"]["total"] == 2
    filtered = (await client.get("/api/support/tickets?priority=LOW&status=OPEN", headers=headers)).json()
    assert [t["id"] for t in filtered["data"]] == [low["id"]]
    none = (await client.get("/api/support/tickets?status=CLOSED", headers=headers)).json()
    assert none["data"] == [] and none["pagination"]["total"] == 0
    paged = (await client.get("/api/support/tickets?page=2&limit=1", headers=headers)).json()
    assert [t["id"] for t in paged["data"]] == [low["id"]]


async def test_messages_with_attachments_and_the_ticket_read_back(client):
    _, headers = await auth_headers(client)
    photo = (await upload(client, headers, PNG, name="foto.png")).json()
    ticket = await open_ticket(client, headers, attachments=[photo["id"]])
    assert ticket["attachments"] == [photo]
    note = (
        await upload(client, headers, "detalhes do ocorrido: cartão\n".encode(), "nota.txt", "text/plain")
    ).json()
    sent = await reply(
        client, headers, ticket["id"], "Incluindo informações adicionais...", attachments=[note["id"]]
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert message["authorType"] == "USER" and message["ticketId"] == ticket["id"]
    assert message["attachments"] == [note]

    detail = (await client.get(f"/api/support/tickets/{ticket['id']}", headers=headers)).json()
    assert detail["description"] == "Meu cartão foi bloqueado sem motivo"
    assert detail["attachments"] == [photo]
    assert [(m["message"], m["attachments"]) for m in detail["messages"]] == [
        ("Incluindo informações adicionais...", [note])
    ]


async def test_another_customers_ticket_is_404_everywhere(app, client):
    _, owner = await auth_headers(client)
    _, stranger = await auth_headers(client)
    ticket = await open_ticket(client, owner)
    path = f"/api/support/tickets/{ticket['id']}"
    for response in (
        await client.get(path, headers=stranger),
        await reply(client, stranger, ticket["id"], "olá"),
        await client.get(f"/api/support/tickets/{uuid.uuid4()}", headers=owner),
    ):
        assert response.status_code == 404 and response.json()["error"] == "TICKET_NOT_FOUND"
    assert (await client.get("/api/support/tickets", headers=stranger)).json()["data"] == []
    assert await count(app.state.db, "ticket_messages") == 0


async def test_attaching_someone_elses_file_is_404_and_nothing_is_written(app, client):
    _, owner = await auth_headers(client)
    _, stranger = await auth_headers(client)
    theirs = (await upload(client, stranger, PNG)).json()
    ticket = await open_ticket(client, owner)
    response = await reply(client, owner, ticket["id"], "veja o anexo", attachments=[theirs["id"]])
    assert response.status_code == 404 and response.json()["error"] == "FILE_NOT_FOUND"
    assert await count(app.state.db, "ticket_messages") == 0
    assert await count(app.state.db, "ticket_attachments") == 0


async def test_customers_cannot_use_the_desk(app, client):
    _, headers = await auth_headers(client)
    ticket = await open_ticket(client, headers)
    staff = await staff_headers(app, client, "staff")
    staff_id = (await client.get("/auth/me", headers=staff)).json()["id"]
    for response in (
        await client.get("/api/support/queue", headers=headers),
        await client.post(
            f"/api/support/tickets/{ticket['id']}/status", json={"status": "CLOSED"}, headers=headers
        ),
        await client.post(
            f"/api/support/tickets/{ticket['id']}/assign", json={"staffId": staff_id}, headers=headers
        ),
    ):
        assert response.status_code == 403


async def test_an_idempotency_key_opens_one_ticket(app, client):
    _, headers = await auth_headers(client)
    keyed = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"category": "ACCOUNT", "priority": "MEDIUM", "subject": "Limite", "description": "Quero aumentar"}
    first = await client.post("/api/support/tickets", json=body, headers=keyed)
    again = await client.post("/api/support/tickets", json=body, headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert await count(app.state.db, "support_tickets") == 1
