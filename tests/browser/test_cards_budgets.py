"""Cards, budgets and analytics, and support in Chromium: a virtual card made (its number on screen once)
and blocked; a budget whose bar shows what was spent, and the analytics page; a ticket opened with an
attachment whose staff answer appears without a reload. Screenshots of each screen."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Browser, Page, expect

from laura.core.db import Database
from laura.identity.schemas import RegisterRequest
from laura.identity.service import create_privileged_user
from tests.bank.support_tickets.support import PNG
from tests.browser.conftest import screenshot_path
from tests.browser.test_customer import PASSWORD, _fund, _sign_up


async def _customer(chromium: Browser, base: str, name: str, width: int = 360) -> tuple[Page, str]:
    context = await chromium.new_context(viewport={"width": width, "height": 800}, locale="pt-BR")
    page = await context.new_page()
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@example.com"
    await _sign_up(page, base, name, email)
    return page, email


async def _token(api: httpx.AsyncClient, email: str) -> dict:
    answer = await api.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['accessToken']}"}


async def test_a_virtual_card_is_created_shown_once_and_blocked(server, chromium: Browser) -> None:
    page, _ = await _customer(chromium, server.url, "Ana Souza")
    await page.get_by_role("link", name="Cartões").click()
    await page.get_by_role("link", name="Novo cartão virtual").click()
    await page.get_by_label("Limite total (R$)").fill("250,00")
    await page.get_by_label("Dê um nome (opcional)").fill("Streaming")
    await page.get_by_role("button", name="Criar cartão").click()
    number = page.get_by_test_id("card-number")
    await expect(number).to_have_text(re.compile(r"^\d{4} \d{4} \d{4} \d{4}$"))
    await expect(page.get_by_test_id("card-cvv")).to_have_text(re.compile(r"^\d{3}$"))
    assert "/cards/new" in page.url and (await number.inner_text()).replace(" ", "") not in page.url
    await page.screenshot(path=screenshot_path("card-created"), full_page=True)

    await page.get_by_role("link", name="Voltar aos cartões").click()
    virtual = page.locator(".bank-card", has_text="Cartão virtual")
    await expect(virtual).to_contain_text("Streaming")
    await expect(page.get_by_test_id("card-number")).to_have_count(0)  # never listed
    await virtual.get_by_role("button", name="Bloquear").click()
    virtual = page.locator(".bank-card", has_text="Cartão virtual")
    await expect(virtual.get_by_test_id("card-status")).to_have_text("Bloqueado")
    await expect(virtual.get_by_role("button", name="Desbloquear")).to_be_visible()
    await page.screenshot(path=screenshot_path("cards"), full_page=True)
    await page.context.close()


async def test_a_budget_shows_its_bar_on_its_page_and_the_home_and_analytics_draw_the_spending(
    server, chromium: Browser, database_url
) -> None:
    base = server.url
    page, email = await _customer(chromium, base, "Bia Lima", width=1280)
    await _fund(database_url, email, "300.00")
    async with httpx.AsyncClient(base_url=base) as api:
        other = {
            "email": f"rui-{uuid.uuid4().hex[:6]}@example.com",
            "password": PASSWORD,
            "name": "Rui Costa",
        }
        recipient = (await api.post("/auth/register", json={**other, "userType": "customer"})).json()
        sent = await api.post(
            "/api/transfers/p2p",
            json={"recipientUserId": recipient["id"], "amount": 80.00},
            headers=await _token(api, email),
        )
        assert sent.status_code == 201, sent.text

    await page.get_by_role("link", name="Orçamentos", exact=True).click()
    await page.get_by_role("link", name="Novo orçamento").click()
    await page.get_by_label("Categoria").select_option("TRANSFERS")
    await page.get_by_label("Período").select_option("MONTHLY")
    await page.get_by_label("Limite (R$)").fill("100,00")
    await page.get_by_role("button", name="Salvar").click()
    budget = page.get_by_test_id("budget-transfers")
    await expect(budget).to_contain_text("R$\xa080,00 de R$\xa0100,00")
    await expect(budget).to_contain_text("Atenção")  # 80% passed the 75% threshold
    await expect(budget.locator(".fill.warning")).to_be_visible()
    await page.screenshot(path=screenshot_path("budgets"), full_page=True)

    await page.get_by_role("link", name="Análises", exact=True).click()
    await expect(page.get_by_test_id("categories")).to_contain_text("Transferências")
    await expect(page.get_by_test_id("categories")).to_contain_text("100%")
    await expect(page.locator("svg.donut circle.slice")).to_have_count(1)
    await page.screenshot(path=screenshot_path("analytics"), full_page=True)

    await page.get_by_role("link", name="Início", exact=True).click()
    await expect(page.get_by_test_id("budget-transfers")).to_contain_text("Atenção")
    await expect(page.locator("#home-spending-title")).to_be_visible()
    await page.screenshot(path=screenshot_path("home-budgets"), full_page=True)
    await page.context.close()


async def _staff(database_url: str) -> str:
    email = f"staff-{uuid.uuid4().hex[:6]}@example.com"
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            request = RegisterRequest(email=email, password=PASSWORD, name="Sofia Suporte")
            await create_privileged_user(session, request, role="staff")
    finally:
        await db.dispose()
    return email


async def test_a_ticket_is_opened_with_an_attachment_and_staffs_answer_appears_live(
    server, chromium: Browser, database_url, tmp_path
) -> None:
    base = server.url
    page, _ = await _customer(chromium, base, "Caio Reis")
    receipt = tmp_path / "comprovante.png"
    receipt.write_bytes(PNG)
    await page.get_by_role("link", name="Atendimento", exact=True).click()
    await page.get_by_role("link", name="Abrir um chamado").click()
    await page.get_by_label("Sobre o que é?").select_option("CARD")
    await page.get_by_label("Qual a urgência?").select_option("HIGH")
    await page.get_by_label("Assunto").fill("Compra recusada")
    await page.get_by_label("Conte o que aconteceu").fill("O cartão foi recusado na farmácia.")
    await page.get_by_label("Anexos (opcional)").set_input_files(str(receipt))
    await page.get_by_role("button", name="Enviar").click()
    await expect(page.get_by_role("heading", name="Compra recusada")).to_be_visible()
    await expect(page.get_by_role("link", name="comprovante.png")).to_be_visible()
    await expect(page.get_by_test_id("ticket-status")).to_have_text("Aberto")
    ticket_id = page.url.rstrip("/").rsplit("/", 1)[1]
    await expect(page.locator("body[data-live='open']")).to_have_count(1)

    async with httpx.AsyncClient(base_url=base) as api:
        staff = await _token(api, await _staff(database_url))
        answered = await api.post(
            f"/api/support/tickets/{ticket_id}/messages",
            json={"message": "Já liberamos compras em farmácias."},
            headers=staff,
        )
        assert answered.status_code == 201, answered.text
    messages = page.get_by_test_id("messages")
    await expect(messages).to_contain_text("Já liberamos compras em farmácias.")  # no reload
    await expect(messages).to_contain_text("Suporte Laura")
    await expect(page.get_by_test_id("ticket-status")).to_have_text("Em atendimento")
    await page.screenshot(path=screenshot_path("support-ticket"), full_page=True)

    await page.get_by_label("Sua mensagem").fill("Obrigado!")
    await page.get_by_role("button", name="Enviar").click()
    await expect(page.get_by_test_id("messages")).to_contain_text("Obrigado!")
    await page.get_by_role("link", name="Todos os chamados").click()
    await expect(page.get_by_role("link", name="Compra recusada")).to_be_visible()
    await page.context.close()
