"""Support through the web pages: a ticket opened once with its attachments (a multipart form with its CSRF
token), refusals next to their field, the conversation with staff's answer (its fragment is what the page
swaps in live) and a reply, and another customer's ticket and file answering 404."""

from __future__ import annotations

import re
import uuid

from tests.bank.support_tickets.support import PNG, count
from tests.bank.support_tickets.support import reply as api_reply
from tests.helpers import auth_headers, staff_headers
from tests.web.support import browser, csrf, hidden, sign_in


async def _form(http, path: str = "/support/new") -> dict:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    return {"csrftoken": csrf(page.text), "idempotency_key": hidden(page.text, "idempotency_key")}


TICKET = {
    "category": "CARD",
    "priority": "HIGH",
    "subject": "Cartão recusado",
    "description": "Na padaria, hoje",
}


async def _tickets(client, headers) -> list[dict]:
    response = await client.get("/api/support/tickets", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_ticket_opens_once_with_its_attachment_and_shows_the_conversation(app, client) -> None:
    user, headers = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        data = {**await _form(http), **TICKET}
        files = [("attachments", ("comprovante.png", PNG, "image/png"))]
        first = await http.post("/support/new", data=data, files=files)
        again = await http.post("/support/new", data=data, files=files)  # a double click: one ticket
        assert first.status_code == again.status_code == 303, (first.text, again.text)
        assert first.headers["location"] == again.headers["location"]
        page = await http.get(first.headers["location"])
        assert page.status_code == 200
        assert "Cartão recusado" in page.text and "Na padaria, hoje" in page.text and "Aberto" in page.text
        [link] = re.findall(r'href="(/support/files/[^"]+)"', page.text)
        download = await http.get(link)
        assert download.status_code == 200 and download.content == PNG
        assert "attachment" in download.headers["content-disposition"]
        listed = await http.get("/support")
        assert "Cartão recusado" in listed.text and re.search(r"TKT-\d{4}-\d{5}", listed.text)
    [ticket] = await _tickets(client, headers)
    assert ticket["subject"] == "Cartão recusado"
    assert await count(app.state.db, "ticket_attachments") == 1


async def test_refusals_read_next_to_their_field(app, client) -> None:
    user, _ = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        no_subject = await http.post("/support/new", data={**await _form(http), **TICKET, "subject": ""})
        assert no_subject.status_code == 422
        assert 'id="subject-error">Escreva um assunto' in no_subject.text
        assert "Na padaria, hoje" in no_subject.text  # what was typed stays
        no_category = await http.post("/support/new", data={**await _form(http), **TICKET, "category": ""})
        assert no_category.status_code == 400 and 'id="category-error"' in no_category.text
        exe = await http.post(
            "/support/new",
            data={**await _form(http), **TICKET},
            files=[("attachments", ("virus.exe", b"MZ\x90\x00" * 50, "application/octet-stream"))],
        )
        assert exe.status_code == 415 and 'id="attachments-error">Anexe só imagens' in exe.text
        forged = await http.post(
            "/support/new",
            data={**await _form(http), "csrftoken": "forged", **TICKET},
            files=[("attachments", ("a.png", PNG, "image/png"))],
        )
        assert forged.status_code == 403 and "Este formulário expirou" in forged.text
        file_first = await http.post(
            "/support/new",
            files=[
                ("attachments", ("a.png", PNG, "image/png")),
                ("csrftoken", (None, csrf((await http.get("/support/new")).text))),
            ],
        )
        assert file_first.status_code == 403  # the token must come before any file
    assert await count(app.state.db, "support_tickets") == 0


async def test_staffs_answer_shows_in_the_conversation_and_the_customer_replies(app, client) -> None:
    user, headers = await auth_headers(client)
    staff = await staff_headers(app, client, role="staff")
    async with browser(app) as http:
        await sign_in(http, user["email"])
        opened = await http.post("/support/new", data={**await _form(http), **TICKET})
        ticket_page = opened.headers["location"]
        ticket_id = ticket_page.rsplit("/", 1)[1]
        page = await http.get(ticket_page)
        assert f"laura:support.message[detail.ticketId=='{ticket_id}'] from:body" in page.text
        answered = await api_reply(client, staff, ticket_id, "Já desbloqueamos o seu cartão.")
        assert answered.status_code == 201, answered.text
        fragment = await http.get(f"/support/{ticket_id}/messages")  # what the live event swaps in
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "Suporte Laura" in fragment.text and "Já desbloqueamos o seu cartão." in fragment.text
        assert "Em atendimento" in fragment.text
        empty = await http.post(
            f"/support/{ticket_id}/messages", data={**await _form(http, ticket_page), "message": ""}
        )
        assert empty.status_code == 422 and 'id="message-error">Escreva sua mensagem.<' in empty.text
        form = {**await _form(http, ticket_page), "message": "Obrigado!"}
        sent = await http.post(f"/support/{ticket_id}/messages", data=form)
        twice = await http.post(f"/support/{ticket_id}/messages", data=form)
        assert sent.status_code == twice.status_code == 303
        after = await http.get(ticket_page)
        assert after.text.count("Obrigado!") == 1
    detail = (await client.get(f"/api/support/tickets/{ticket_id}", headers=headers)).json()
    assert [m["authorType"] for m in detail["messages"]] == ["STAFF", "USER"]


async def test_another_customers_ticket_and_file_are_not_found(app, client) -> None:
    owner, _ = await auth_headers(client)
    other, _ = await auth_headers(client)
    async with browser(app) as http:
        await sign_in(http, owner["email"])
        opened = await http.post(
            "/support/new",
            data={**await _form(http), **TICKET},
            files=[("attachments", ("a.png", PNG, "image/png"))],
        )
        ticket_page = opened.headers["location"]
        [link] = re.findall(r'href="(/support/files/[^"]+)"', (await http.get(ticket_page)).text)
    async with browser(app) as intruder:
        await sign_in(intruder, other["email"])
        token = csrf((await intruder.get("/support")).text)
        for path in (ticket_page, f"{ticket_page}/messages", link, f"/support/{uuid.uuid4()}"):
            assert (await intruder.get(path)).status_code == 404, path
        posted = await intruder.post(
            f"{ticket_page}/messages",
            data={"csrftoken": token, "idempotency_key": str(uuid.uuid4()), "message": "oi"},
        )
        assert posted.status_code == 404
    assert await count(app.state.db, "ticket_messages") == 0
