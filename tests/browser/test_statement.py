"""The statement, boletos and scheduled payments in Chromium on a 360 px phone: a boleto decoded,
confirmed and paid (its receipt), a bad line refused next to the field, a scheduled Pix cancelled after
its confirmation, and the statement filtered and paged in place by htmx; and with JavaScript off, the same
statement paged by its links and filtered by its plain GET form."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from playwright.async_api import Browser, BrowserContext, expect
from sqlalchemy import text

from laura.bank.bills.barcode import build_bank_line
from laura.bank.seed import fund_customer
from laura.bank.transfers.calendar import BRASILIA
from laura.core.db import Database
from tests.browser.conftest import screenshot_path
from tests.browser.test_customer import PASSWORD, _fund, _sign_up


async def _deposits(database_url: str, email: str, count: int) -> None:
    """`count` small deposits, so the statement has more than one page."""
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            user_id = (
                await session.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email})
            ).scalar_one()
            for number in range(count):
                await fund_customer(
                    session, user_id, Decimal("1.00"), reference=f"test:{uuid.uuid4()}:{number}"
                )
    finally:
        await db.dispose()


async def _schedule_pix(context: BrowserContext, base: str, email: str, amount: float) -> None:
    """A Pix scheduled three days ahead through the API (the web's Pix pages are another area's)."""
    login = await context.request.post(base + "/auth/login", data={"email": email, "password": PASSWORD})
    assert login.ok, await login.text()
    token = (await login.json())["accessToken"]
    when = (datetime.now(BRASILIA) + timedelta(days=3)).isoformat()
    scheduled = await context.request.post(
        base + "/api/transfers/pix",
        data={"pixKey": "aluguel@example.com", "amount": amount, "scheduledFor": when},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert scheduled.status == 201, await scheduled.text()


async def test_a_boleto_paid_a_scheduled_transfer_cancelled_and_the_statement_filtered(
    server, chromium: Browser, database_url
) -> None:
    base = server.url
    email = f"ana-{uuid.uuid4().hex[:6]}@example.com"
    context = await chromium.new_context(viewport={"width": 360, "height": 760}, locale="pt-BR")
    page = await context.new_page()
    await _sign_up(page, base, "Ana Souza", email)
    await _fund(database_url, email, "300.00")

    due = datetime.now(BRASILIA).date() + timedelta(days=10)
    line = build_bank_line("341", Decimal("154.50"), due, f"{uuid.uuid4().int % 10**25:025d}")
    await page.get_by_role("link", name="Boletos").click()
    field = page.get_by_label("Linha digitável ou código de barras")
    await field.fill("1234 5678")
    await page.get_by_role("button", name="Continuar").click()
    await expect(page.locator("#barcode-error")).to_contain_text("Esta não é uma linha de boleto válida")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await field.fill(line)
    await page.get_by_role("button", name="Continuar").click()
    await expect(page.get_by_test_id("boleto-recipient")).to_have_text("Itaú Unibanco S.A.")
    await expect(page.get_by_test_id("boleto-amount")).to_have_text("R$\xa0154,50")
    await expect(page.get_by_test_id("boleto-due")).to_have_text(re.compile(str(due.year)))
    await page.screenshot(path=screenshot_path("boleto-confirmation"), full_page=True)
    await page.get_by_role("button", name="Confirmar pagamento").dblclick()
    await expect(page.get_by_role("heading", name="Boleto pago")).to_be_visible()
    await expect(page.get_by_test_id("receipt-amount")).to_have_text("R$\xa0154,50")
    await page.screenshot(path=screenshot_path("boleto-receipt"), full_page=True)
    receipt_url = page.url
    await page.goto(base + "/")
    await expect(page.get_by_test_id("balance")).to_contain_text("R$\xa0145,50")  # paid once

    await _schedule_pix(context, base, email, 80.0)
    await page.get_by_role("link", name="Agendamentos").click()
    row = page.get_by_test_id("scheduled-transfer")
    await expect(row).to_contain_text("aluguel@example.com")
    await expect(row).to_contain_text("R$\xa080,00")
    await row.get_by_role("link", name="Cancelar a transferência de R$\xa080,00").click()
    await expect(page.get_by_test_id("cancel-amount")).to_have_text("R$\xa080,00")
    await page.get_by_label("Motivo (opcional)").fill("Mudei de ideia")
    await page.get_by_role("button", name="Cancelar a transferência").click()
    await expect(page.get_by_test_id("cancelled-notice")).to_be_visible()
    await expect(page.get_by_test_id("no-scheduled")).to_be_visible()

    await _deposits(database_url, email, 30)
    await page.get_by_role("link", name="Extrato").click()
    entries = page.get_by_test_id("statement-entry")
    await expect(entries).to_have_count(25)
    await page.get_by_role("link", name="Lançamentos anteriores").click()  # appended in place by htmx
    await expect(entries).to_have_count(32)  # 30 deposits, the opening one and the boleto
    await expect(page).to_have_url(base + "/statement")
    await page.get_by_label("Tipo").select_option("BILL")
    await page.get_by_role("button", name="Filtrar").click()
    await expect(entries).to_have_count(1)
    await expect(page).to_have_url(re.compile(r"/statement\?.*type=BILL"))
    await expect(entries).to_contain_text("−R$\xa0154,50")
    await page.screenshot(path=screenshot_path("statement"), full_page=True)
    await entries.get_by_role("link").click()
    await expect(page).to_have_url(receipt_url)
    await context.close()


async def test_the_statement_reads_and_pages_without_javascript(
    server, chromium: Browser, database_url
) -> None:
    base = server.url
    email = f"bia-{uuid.uuid4().hex[:6]}@example.com"
    context = await chromium.new_context(java_script_enabled=False, locale="pt-BR")
    page = await context.new_page()
    await _sign_up(page, base, "Bia Lima", email)
    await _fund(database_url, email, "10.00")
    await _deposits(database_url, email, 30)
    await page.goto(base + "/statement")
    entries = page.get_by_test_id("statement-entry")
    await expect(entries).to_have_count(25)
    await page.get_by_role("link", name="Lançamentos anteriores").click()  # a plain link: the next page
    await expect(entries).to_have_count(6)
    await expect(page).to_have_url(re.compile(r"/statement\?cursor="))
    await page.get_by_role("link", name="Mostrar as mais recentes").click()
    await expect(entries).to_have_count(25)
    await page.get_by_label("Tipo").select_option("BILL")
    await page.get_by_role("button", name="Filtrar").click()  # a plain GET form
    await expect(page.get_by_test_id("statement-empty")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"type=BILL"))
    await context.close()
