"""A customer in a real browser: sign up, sign out and in, the home's balance toggle, a P2P to a second
customer (in a second browser context) confirmed with a double click that moves money once, the
receiver's home showing it, and the refusals: a form post without its CSRF token, another's receipt."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from playwright.async_api import Browser, Page, expect

from laura.bank.seed import fund_customer
from laura.core.db import Database
from tests.browser.conftest import screenshot_path

PASSWORD = "s3cret-passw0rd"


async def _sign_up(page: Page, base: str, name: str, email: str) -> None:
    await page.goto(base + "/")
    await expect(page).to_have_url(re.compile(r"/login$"))
    await page.get_by_role("link", name="Abra sua conta").click()
    await page.get_by_label("Nome completo").fill(name)
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Criar conta").click()
    await expect(page.get_by_role("heading", name=f"Olá, {name}")).to_be_visible()


async def _fund(database_url: str, email: str, amount: str) -> None:
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            from sqlalchemy import text

            user_id = (
                await session.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email})
            ).scalar_one()
            await fund_customer(session, user_id, Decimal(amount), reference=f"test:{uuid.uuid4()}")
    finally:
        await db.dispose()


async def test_a_customer_signs_up_and_sends_a_p2p_once(server, chromium: Browser, database_url) -> None:
    base = server.url
    sender_email, receiver_email = (
        f"ana-{uuid.uuid4().hex[:6]}@example.com",
        f"rui-{uuid.uuid4().hex[:6]}@example.com",
    )
    sender_context = await chromium.new_context(viewport={"width": 360, "height": 760}, locale="pt-BR")
    receiver_context = await chromium.new_context(locale="pt-BR")
    sender, receiver = await sender_context.new_page(), await receiver_context.new_page()

    await _sign_up(sender, base, "Ana Souza", sender_email)
    await sender.get_by_role("button", name="Sair").click()
    await expect(sender).to_have_url(re.compile(r"/login$"))
    await sender.screenshot(path=screenshot_path("login"), full_page=True)
    await sender.get_by_label("E-mail", exact=True).fill(sender_email)
    await sender.get_by_label("Senha").fill(PASSWORD)
    await sender.get_by_role("button", name="Entrar").click()
    await expect(sender.get_by_role("heading", name="Olá, Ana Souza")).to_be_visible()
    await _sign_up(receiver, base, "Rui Costa", receiver_email)

    await _fund(database_url, sender_email, "100.00")
    await sender.reload()
    balance = sender.get_by_test_id("balance")
    await expect(balance).to_contain_text("R$\xa0100,00")
    await sender.screenshot(path=screenshot_path("home"), full_page=True)
    await sender.get_by_role("button", name="Ocultar saldo").click()
    await expect(balance.get_by_text("R$ ••••")).to_be_visible()
    await expect(balance.get_by_text("R$\xa0100,00")).to_be_hidden()
    await sender.get_by_role("button", name="Mostrar saldo").click()
    await expect(balance.get_by_text("R$\xa0100,00")).to_be_visible()

    await sender.get_by_role("link", name="Transferir").first.click()
    await sender.get_by_label("E-mail de quem recebe").fill(receiver_email)
    await sender.get_by_label("Valor (R$)").fill("12,34")
    await sender.get_by_role("button", name="Continuar").click()
    await expect(sender.get_by_test_id("recipient-name")).to_have_text("Rui Costa")
    await expect(sender.get_by_test_id("confirm-amount")).to_have_text("R$\xa012,34")
    await sender.screenshot(path=screenshot_path("p2p-confirmation"), full_page=True)
    await sender.get_by_role("button", name="Transferir agora").dblclick()
    await expect(sender.get_by_role("heading", name="Transferência enviada")).to_be_visible()
    receipt_url = sender.url
    await sender.goto(base + "/")
    await expect(sender.get_by_test_id("balance")).to_contain_text("R$\xa087,66")  # once, not twice

    await receiver.reload()
    await expect(receiver.get_by_test_id("balance")).to_contain_text("R$\xa012,34")
    await expect(receiver.locator(".entries")).to_contain_text("+R$\xa012,34")
    someone_elses = await receiver.goto(receipt_url)
    assert someone_elses is not None and someone_elses.status == 404
    await expect(receiver.get_by_role("heading", name="Página não encontrada")).to_be_visible()

    forged = await sender_context.request.post(
        base + "/transfers/p2p", form={"email": receiver_email, "amount": "1,00"}, max_redirects=0
    )
    assert forged.status == 403
    assert "Este formulário expirou" in await forged.text()
    await sender_context.close()
    await receiver_context.close()
