"""axe-core (vendored, tests/browser/vendor) run in Chromium on the login page, the home and the P2P form
and its confirmation: no serious or critical violation."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Browser, Page

from tests.browser.test_customer import _sign_up

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


async def _violations(page: Page) -> list[dict]:
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


async def test_the_customer_pages_have_no_serious_accessibility_violation(server, chromium: Browser) -> None:
    base = server.url
    context = await chromium.new_context(locale="pt-BR")
    page = await context.new_page()
    await page.goto(base + "/login")
    found = {"login": await _violations(page)}
    await page.goto(base + "/register")
    found["register"] = await _violations(page)
    receiver = f"bia-{uuid.uuid4().hex[:6]}@example.com"
    other = await (await chromium.new_context(locale="pt-BR")).new_page()
    await _sign_up(other, base, "Bia Lima", receiver)
    await _sign_up(page, base, "Ana Souza", f"ana-{uuid.uuid4().hex[:6]}@example.com")
    found["home"] = await _violations(page)
    await page.goto(base + "/transfers/p2p")
    found["p2p"] = await _violations(page)
    await page.get_by_label("E-mail de quem recebe").fill(receiver)
    await page.get_by_label("Valor (R$)").fill("1,00")
    await page.get_by_role("button", name="Continuar").click()
    found["p2p-confirmation"] = await _violations(page)
    await page.goto(base + "/?lang=en")
    found["home-en"] = await _violations(page)
    assert found == {name: [] for name in found}, found
    await context.close()


async def test_the_statement_boleto_and_scheduled_pages_have_no_serious_violation(
    server, chromium: Browser
) -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from laura.bank.bills.barcode import build_bank_line

    base = server.url
    context = await chromium.new_context(locale="pt-BR")
    page = await context.new_page()
    await _sign_up(page, base, "Ana Souza", f"ana-{uuid.uuid4().hex[:6]}@example.com")
    found = {}
    for name, path in (
        ("statement", "/statement?type=PIX"),
        ("scheduled", "/scheduled"),
        ("boletos", "/boletos"),
    ):
        await page.goto(base + path)
        found[name] = await _violations(page)
    await page.get_by_label("Linha digitável ou código de barras").fill("123")
    await page.get_by_role("button", name="Continuar").click()
    found["boleto-refused"] = await _violations(page)
    line = build_bank_line(
        "341", Decimal("10.00"), date.today() + timedelta(days=10), f"{uuid.uuid4().int % 10**25:025d}"
    )
    await page.get_by_label("Linha digitável ou código de barras").fill(line)
    await page.get_by_role("button", name="Continuar").click()
    found["boleto-confirmation"] = await _violations(page)
    assert found == {name: [] for name in found}, found
    await context.close()


async def test_the_pix_and_ted_pages_have_no_serious_accessibility_violation(
    server, chromium: Browser
) -> None:
    base = server.url
    context = await chromium.new_context(locale="pt-BR")
    page = await context.new_page()
    payee = await (await chromium.new_context(locale="pt-BR")).new_page()
    payee_email = f"rui-{uuid.uuid4().hex[:6]}@example.com"
    await _sign_up(payee, base, "Rui Costa", payee_email)
    await _sign_up(page, base, "Ana Souza", f"ana-{uuid.uuid4().hex[:6]}@example.com")
    found = {}
    for name, path in (("pix-send", "/pix/send"), ("pix-receive", "/pix/receive"), ("pix-keys", "/pix/keys")):
        await page.goto(base + path)
        found[name] = await _violations(page)
    await page.get_by_label("E-mail").check()
    await page.get_by_label("Chave", exact=True).fill("not-an-email")
    await page.get_by_role("button", name="Registrar a chave").click()
    found["pix-keys-refused"] = await _violations(page)
    await page.goto(base + "/pix/send")
    await page.get_by_label("Chave Pix ou código copia e cola").fill("not-a-key")
    await page.get_by_role("button", name="Continuar").click()
    found["pix-send-refused"] = await _violations(page)
    await page.goto(base + "/ted")
    found["ted"] = await _violations(page)
    await page.get_by_label("Banco").select_option("341")
    await page.get_by_label("Agência").fill("0001")
    await page.get_by_label("Conta com dígito").fill("12345-6")
    await page.get_by_label("Nome completo de quem recebe").fill("Marta Lima")
    await page.get_by_label("Valor (R$)").fill("10,00")
    await page.get_by_role("button", name="Continuar").click()
    await page.get_by_test_id("ted-fee").wait_for()
    found["ted-confirmation"] = await _violations(page)
    await page.goto(base + "/?lang=en")
    await page.goto(base + "/pix/send")
    found["pix-send-en"] = await _violations(page)
    assert found == {name: [] for name in found}, found
    await context.close()


async def test_the_cards_budgets_analytics_and_support_pages_have_no_serious_violation(
    server, chromium: Browser
) -> None:
    base = server.url
    context = await chromium.new_context(locale="pt-BR")
    page = await context.new_page()
    await _sign_up(page, base, "Ana Souza", f"ana-{uuid.uuid4().hex[:6]}@example.com")
    found = {}
    for name, path in (
        ("cards", "/cards"),
        ("card-new", "/cards/new"),
        ("budgets", "/budgets"),
        ("budget-new", "/budgets/new"),
        ("analytics", "/analytics"),
        ("support", "/support"),
        ("support-new", "/support/new"),
    ):
        await page.goto(base + path)
        found[name] = await _violations(page)
    await page.get_by_role("button", name="Enviar").click()  # refused: errors next to the fields
    found["support-new-refused"] = await _violations(page)
    await page.goto(base + "/budgets/new")
    await page.get_by_label("Limite (R$)").fill("abc")
    await page.get_by_role("button", name="Salvar").click()
    found["budget-refused"] = await _violations(page)
    await page.goto(base + "/cards/new")
    await page.get_by_label("Limite total (R$)").fill("100,00")
    await page.get_by_role("button", name="Criar cartão").click()
    found["card-created"] = await _violations(page)
    await page.goto(base + "/cards")
    await page.get_by_role("link", name="Ver dados").first.click()
    found["card-reveal"] = await _violations(page)
    await page.goto(base + "/cards")
    await page.get_by_role("link", name="Comunicar perda").first.click()
    found["card-lost"] = await _violations(page)
    assert found == {name: [] for name in found}, found
    await context.close()
