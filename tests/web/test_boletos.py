"""Boletos and scheduled transfers through the web pages: the slip decoded before anything is paid, paid
once per confirmation whatever the clicks, scheduled for a day, refusals next to their field, receipts
(page and PDF) for the payer only; a scheduled Pix listed and cancelled after a confirmation."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from laura.bank.bills import service as bills
from laura.bank.bills.barcode import build_bank_line, build_utility_line
from laura.bank.seed import demo_bill_lines
from laura.bank.transfers.calendar import BRASILIA
from tests.bank.support import balance, funded_customer
from tests.web.support import browser, form_post, hidden, sign_in
from tests.web.test_statement import pdf_text


def _today() -> date:
    return datetime.now(BRASILIA).date()


def _line(amount: str = "154.50", days: int = 10) -> str:
    free = f"{uuid.uuid4().int % 10**25:025d}"
    return build_bank_line("341", Decimal(amount), _today() + timedelta(days=days), free)


async def _decode(http, line: str):
    return await form_post(http, "/boletos", "/boletos", {"barcode": line})


def _confirmation(page: str) -> dict:
    names = ("csrftoken", "idempotency_key", "barcode", "amount")
    return {name: hidden(page, name) for name in names}


async def test_a_boleto_is_decoded_then_paid_once(app, client) -> None:
    user, headers = await funded_customer(app, client, "200.00")
    line, registered = demo_bill_lines(_today())[0]
    async with app.state.db.unit_of_work() as session:
        await bills.register_bill(session, registered)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        page = await _decode(http, line)
        assert page.status_code == 200, page.text
        assert "Empresa XYZ Ltda" in page.text and 'data-testid="boleto-amount">R$\xa0' in page.text
        assert await balance(client, headers) == Decimal("200.00")  # nothing paid yet
        form = {**_confirmation(page.text), "when": "now"}
        first, second = await asyncio.gather(
            http.post("/boletos/pay", data=form), http.post("/boletos/pay", data=form)
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        assert first.headers["location"] == second.headers["location"]
        again = await http.post("/boletos/pay", data=form)  # a refresh
        assert again.headers["location"] == first.headers["location"]
        receipt = await http.get(first.headers["location"])
        assert (
            receipt.status_code == 200
            and "Boleto pago" in receipt.text
            and "Empresa XYZ Ltda" in receipt.text
        )
        pdf = await http.get(first.headers["location"] + "/receipt.pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        amount = registered.amount_cents / 100
        assert f"R$ {amount:.2f}" in pdf_text(pdf.content)
        listed = await http.get("/boletos")
        assert first.headers["location"] in listed.text
    assert await balance(client, headers) == Decimal("200.00") - Decimal(registered.amount_cents) / 100
    other, _ = await funded_customer(app, client)
    async with browser(app) as stranger:
        await sign_in(stranger, other["email"])
        assert (await stranger.get(first.headers["location"])).status_code == 404
        assert (await stranger.get(first.headers["location"] + "/receipt.pdf")).status_code == 404
        assert (await stranger.get(f"/boletos/{uuid.uuid4()}")).status_code == 404


async def test_decode_refusals_read_next_to_the_line(app, client) -> None:
    user, _ = await funded_customer(app, client, "10.00")
    line = _line()
    async with browser(app) as http:
        await sign_in(http, user["email"])
        empty = await _decode(http, "")
        assert empty.status_code == 422 and 'id="barcode-error"' in empty.text
        broken = await _decode(http, line[:-1] + str((int(line[-1]) + 1) % 10))
        assert broken.status_code == 400
        assert re.search(r'id="barcode-error">Esta não é uma linha de boleto válida', broken.text)
        letters = await _decode(http, "not a boleto")
        assert letters.status_code == 400 and 'id="barcode-error"' in letters.text
        expired = await _decode(http, _line(days=-90))
        assert expired.status_code == 402
        assert "passou do prazo de pagamento" in expired.text
        assert "{" not in re.sub(r"<script.*?</script>|x-data=\"[^\"]*\"|:class=\"[^\"]*\"", "", expired.text)


async def test_pay_refusals_read_next_to_their_field(app, client) -> None:
    user, headers = await funded_customer(app, client, "10.00")
    async with browser(app) as http:
        await sign_in(http, user["email"])
        page = await _decode(http, _line("154.50"))
        short = await http.post("/boletos/pay", data={**_confirmation(page.text), "when": "now"})
        assert short.status_code == 402
        assert "Seu saldo disponível não é suficiente para este valor." in short.text
        again = await http.post("/boletos/pay", data={**_confirmation(short.text), "when": "now"})
        assert again.status_code == 402  # a new key each time the confirmation is shown
        far = (_today() + timedelta(days=400)).isoformat()
        reused = await http.post(
            "/boletos/pay", data={**_confirmation(page.text), "when": "later", "payment_date": far}
        )
        assert reused.status_code == 422 and "Esta confirmação já foi usada" in reused.text
        late = await http.post(
            "/boletos/pay", data={**_confirmation(reused.text), "when": "later", "payment_date": far}
        )
        assert late.status_code == 422 and 'id="payment_date-error"' in late.text
        utility = build_utility_line("3", None, "0123", f"{uuid.uuid4().int % 10**25:025d}")
        open_amount = await _decode(http, utility)
        assert 'id="amount"' in open_amount.text  # this slip does not carry its amount
        form = {**_confirmation_without_amount(open_amount.text), "when": "now", "amount": ""}
        missing = await http.post("/boletos/pay", data=form)
        assert missing.status_code == 422 and 'id="amount-error"' in missing.text
    assert await balance(client, headers) == Decimal("10.00")


def _confirmation_without_amount(page: str) -> dict:
    return {name: hidden(page, name) for name in ("csrftoken", "idempotency_key", "barcode")}


async def test_a_boleto_scheduled_for_a_day_waits_for_it(app, client) -> None:
    user, headers = await funded_customer(app, client, "200.00")
    day = _today() + timedelta(days=5)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        page = await _decode(http, _line("50.00"))
        form = {**_confirmation(page.text), "when": "later", "payment_date": day.isoformat()}
        paid = await http.post("/boletos/pay", data=form)
        assert paid.status_code == 303, paid.text
        receipt = await http.get(paid.headers["location"])
        assert "Boleto agendado" in receipt.text and "Agendada" in receipt.text
        scheduled = await http.get("/scheduled")
        assert paid.headers["location"] in scheduled.text
    assert await balance(client, headers) == Decimal("200.00")


async def _scheduled_pix(client, headers: dict, amount: str, days: int = 3) -> str:
    when = (datetime.now(BRASILIA) + timedelta(days=days)).isoformat()
    response = await client.post(
        "/api/transfers/pix",
        json={"pixKey": "someone@example.com", "amount": float(amount), "scheduledFor": when},
        headers=headers,
    )
    assert response.status_code == 201 and response.json()["status"] == "SCHEDULED", response.text
    return response.json()["id"]


async def test_a_scheduled_transfer_is_cancelled_after_a_confirmation(app, client) -> None:
    user, headers = await funded_customer(app, client, "100.00")
    transfer_id = await _scheduled_pix(client, headers, "30.00")
    _, other_headers = await funded_customer(app, client, "100.00")
    others = await _scheduled_pix(client, other_headers, "5.00")
    async with browser(app) as http:
        await sign_in(http, user["email"])
        listed = await http.get("/scheduled")
        assert f"/scheduled/{transfer_id}/cancel" in listed.text and others not in listed.text
        assert "someone@example.com" in listed.text and "R$\xa030,00" in listed.text
        assert (await http.get(f"/scheduled/{others}/cancel")).status_code == 404
        assert (await http.post(f"/scheduled/{others}/cancel", data={"csrftoken": "x"})).status_code == 403
        review = await http.get(f"/scheduled/{transfer_id}/cancel")
        assert review.status_code == 200 and 'data-testid="cancel-amount">R$\xa030,00' in review.text
        form = {"csrftoken": hidden(review.text, "csrftoken"), "reason": "mudei de ideia"}
        stranger = await http.post(f"/scheduled/{others}/cancel", data=form)
        assert stranger.status_code == 404
        first, second = await asyncio.gather(
            http.post(f"/scheduled/{transfer_id}/cancel", data=form),
            http.post(f"/scheduled/{transfer_id}/cancel", data=form),
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        after = await http.get(first.headers["location"])
        assert 'data-testid="cancelled-notice"' in after.text and 'data-testid="no-scheduled"' in after.text
        gone = await http.get(f"/scheduled/{transfer_id}/cancel")
        assert "não pode mais ser cancelada" in gone.text and 'action="/scheduled/' not in gone.text
    detail = await client.get(f"/api/transfers/{transfer_id}", headers=headers)
    assert detail.json()["status"] == "CANCELLED"
    assert (await client.get(f"/api/transfers/{others}", headers=other_headers)).json()[
        "status"
    ] == "SCHEDULED"


async def test_a_ted_on_its_way_is_called_back_and_its_money_released(app, client) -> None:
    user, headers = await funded_customer(app, client, "100.00")
    body = {
        "bank": "341",
        "agency": "1234",
        "account": "12345-6",
        "accountType": "CHECKING",
        "amount": 40.0,
        "recipientName": "Joana Prado",
    }
    sent = await client.post("/api/transfers/ted", json=body, headers=headers)
    assert sent.status_code == 201 and sent.json()["status"] == "PENDING", sent.text
    ted = sent.json()["id"]
    async with browser(app) as http:
        await sign_in(http, user["email"])
        listed = await http.get("/scheduled")
        assert f"/scheduled/{ted}/cancel" in listed.text and "Joana Prado" in listed.text
        review = await http.get(f"/scheduled/{ted}/cancel")
        assert "Chega até" in review.text and f'action="/scheduled/{ted}/cancel"' in review.text
        done = await http.post(
            f"/scheduled/{ted}/cancel", data={"csrftoken": hidden(review.text, "csrftoken")}
        )
        assert done.status_code == 303
    account = (await client.get("/api/accounts/me", headers=headers)).json()
    assert (account["balance"], account["available"]) == (100.0, 100.0)  # amount and fee no longer held
