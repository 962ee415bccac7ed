"""The statement page over HTTP: filters by Brasília days, kind and status, keyset pages (plain links and
htmx fragments), the filtered CSV, and the transfer receipt's PDF for its sender only."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zlib
from datetime import datetime, timedelta
from decimal import Decimal

from laura.bank.seed import fund_customer
from laura.bank.transfers.calendar import BRASILIA
from tests.bank.support import funded_customer
from tests.helpers import auth_headers
from tests.web.support import browser, sign_in

_ENTRY = re.compile(r'data-testid="statement-entry"')


def pdf_text(content: bytes) -> str:
    """The text of an fpdf2 PDF: its (zlib-compressed) content streams, inflated."""
    assert content.startswith(b"%PDF")
    chunks = [content.decode("latin-1")]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.DOTALL):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(chunks)


async def _p2p(client, headers: dict, recipient_id: str, amount: str, description: str) -> str:
    response = await client.post(
        "/api/transfers/p2p",
        json={"recipientUserId": recipient_id, "amount": float(amount), "description": description},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _ted(client, headers: dict, amount: str) -> str:
    body = {
        "bank": "341",
        "agency": "1234",
        "account": "12345-6",
        "accountType": "CHECKING",
        "amount": float(amount),
        "recipientName": "Joana Prado",
    }
    response = await client.post("/api/transfers/ted", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _today() -> str:
    return datetime.now(BRASILIA).date().isoformat()


async def test_filters_by_kind_status_and_brasilia_days(app, client) -> None:
    sender, headers = await funded_customer(app, client, "500.00")
    receiver, _ = await auth_headers(client, name="Carla Dias")
    await _p2p(client, headers, receiver["id"], "25.90", "almoço")
    await _ted(client, headers, "40.00")
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        everything = await http.get("/statement")
        assert everything.status_code == 200
        assert len(_ENTRY.findall(everything.text)) == 3
        p2p = await http.get("/statement", params={"type": "P2P"})
        assert len(_ENTRY.findall(p2p.text)) == 1 and "almoço" in p2p.text and "−R$\xa025,90" in p2p.text
        pending = await http.get("/statement", params={"status": "PENDING"})
        assert len(_ENTRY.findall(pending.text)) == 1 and "−R$\xa048,50" in pending.text  # TED + its fee
        assert "Pendente" in pending.text
        deposits = await http.get("/statement", params={"type": "DEPOSIT", "status": "COMPLETED"})
        assert len(_ENTRY.findall(deposits.text)) == 1 and "+R$\xa0500,00" in deposits.text
        today = await http.get("/statement", params={"from": _today(), "to": _today()})
        assert len(_ENTRY.findall(today.text)) == 3
        tomorrow = (datetime.now(BRASILIA).date() + timedelta(days=1)).isoformat()
        later = await http.get("/statement", params={"from": tomorrow})
        assert 'data-testid="statement-empty"' in later.text and not _ENTRY.findall(later.text)
        backwards = await http.get("/statement", params={"from": _today(), "to": "2000-01-01"})
        assert backwards.status_code == 422
        assert re.search(
            r'id="to-error">A data final deve ser igual ou posterior à inicial.<', backwards.text
        )
        not_a_date = await http.get("/statement", params={"from": "ontem"})
        assert 'id="from-error"' in not_a_date.text


async def test_keyset_pages_as_links_and_as_htmx_fragments(app, client) -> None:
    user, _ = await funded_customer(app, client, "1.00")
    async with app.state.db.unit_of_work() as session:
        for number in range(2, 31):
            await fund_customer(
                session, uuid.UUID(user["id"]), Decimal(number), reference=f"t:{uuid.uuid4()}"
            )
    async with browser(app) as http:
        await sign_in(http, user["email"])
        first = await http.get("/statement", params={"type": "DEPOSIT"})
        assert len(_ENTRY.findall(first.text)) == 25 and "+R$\xa030,00" in first.text
        older = re.search(r'href="(/statement\?type=DEPOSIT&amp;cursor=[^"]+)"', first.text)
        assert older, "no link to the older entries"
        second = await http.get(older.group(1).replace("&amp;", "&"))
        assert len(_ENTRY.findall(second.text)) == 5 and "+R$\xa01,00" in second.text
        assert "+R$\xa030,00" not in second.text and "Mostrar as mais recentes" in second.text
        assert (
            'id="statement-next"' in second.text
            and "cursor=" not in second.text.split('id="statement-next"')[1]
        )
        fragment = await http.get(older.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
        assert "<html" not in fragment.text and len(_ENTRY.findall(fragment.text)) == 5
        assert 'id="statement-next" hx-swap-oob="true"' in fragment.text
        results = await http.get("/statement", params={"type": "P2P"}, headers={"HX-Request": "true"})
        assert 'id="statement-results"' in results.text
        assert "<html" not in results.text and 'data-testid="statement-empty"' in results.text
        stale = await http.get("/statement", params={"cursor": "eyJpZCI6ICJ4In0"})
        assert stale.status_code == 200 and len(_ENTRY.findall(stale.text)) == 25
        assert "não está mais disponível" in stale.text


async def test_the_csv_has_the_filtered_entries(app, client) -> None:
    sender, headers = await funded_customer(app, client, "100.00")
    receiver, _ = await auth_headers(client)
    await _p2p(client, headers, receiver["id"], "12.34", "pizza")
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        page = await http.get("/statement", params={"type": "P2P"})
        assert 'href="/statement.csv?type=P2P"' in page.text
        response = await http.get("/statement.csv", params={"type": "P2P"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["type"], r["direction"], r["amount"], r["balance"], r["status"]) for r in rows] == [
        ("P2P_TRANSFER", "DEBIT", "12.34", "87.66", "COMPLETED")
    ]
    assert rows[0]["description"] == "pizza"


async def test_a_transfer_receipt_pdf_is_its_senders_only(app, client) -> None:
    sender, headers = await funded_customer(app, client, "100.00")
    receiver, _ = await auth_headers(client, name="Carla Dias")
    transfer_id = await _p2p(client, headers, receiver["id"], "25.90", "almoço")
    async with browser(app) as http:
        await sign_in(http, sender["email"])
        statement = await http.get("/statement")
        assert f'href="/transfers/{transfer_id}"' in statement.text
        receipt = await http.get(f"/transfers/{transfer_id}")
        assert f'href="/transfers/{transfer_id}/receipt.pdf"' in receipt.text
        pdf = await http.get(f"/transfers/{transfer_id}/receipt.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        assert "R$ 25.90" in text and "Carla Dias" in text
    async with browser(app) as other:
        await sign_in(other, receiver["email"])
        statement = await other.get("/statement")
        assert "+R$\xa025,90" in statement.text and f'href="/transfers/{transfer_id}"' not in statement.text
        assert (await other.get(f"/transfers/{transfer_id}/receipt.pdf")).status_code == 404
        assert (await other.get(f"/transfers/{uuid.uuid4()}/receipt.pdf")).status_code == 404


async def test_the_statement_needs_a_signed_in_customer(app, client) -> None:
    async with browser(app) as http:
        response = await http.get("/statement?type=PIX")
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
        assert (await http.get("/statement.csv")).status_code == 303
    passenger, _ = await auth_headers(client, user_type="passenger")
    async with browser(app) as http:
        await sign_in(http, passenger["email"])
        for path in ("/statement", "/statement.csv"):
            answer = await http.get(path)  # no checking account: the page, not the API's JSON
            assert answer.status_code == 404 and "Página não encontrada" in answer.text, path
