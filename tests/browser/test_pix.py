"""Pix in Chromium: a random key registered on the keys page and paid by another customer through the
confirmation step (name and bank shown, a double click on "Pagar agora" moving money once); and, with the
whole platform (`laura up`: API, worker and PSP sandbox), a charge's QR shown, paid in the sandbox, and
the receiver's balance and the charge's status updating without a reload; then a Pix to another
institution's key, sent through the PSP, its receipt reaching "Concluída" without a reload."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.browser.conftest import CHROMIUM, _skip_reason, screenshot_path
from tests.browser.test_customer import _fund, _sign_up
from tests.server_process import LauraProcess, free_port, laura_env, laura_process


def _email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}@example.com"


async def test_a_pix_by_key_is_confirmed_with_name_and_bank_and_moves_money_once(
    server, chromium: Browser, database_url
) -> None:
    base = server.url
    payer_email, payee_email = _email("ana"), _email("rui")
    payer_context = await chromium.new_context(viewport={"width": 360, "height": 760}, locale="pt-BR")
    payee_context = await chromium.new_context(locale="pt-BR")
    payer, payee = await payer_context.new_page(), await payee_context.new_page()
    await _sign_up(payee, base, "Rui Costa", payee_email)
    await payee.get_by_role("link", name="Pix", exact=True).click()
    await payee.get_by_role("link", name="Minhas chaves Pix").click()
    await payee.get_by_label("Chave aleatória").check()
    await payee.get_by_role("button", name="Registrar a chave").click()
    random_key = (await payee.get_by_test_id("pix-keys").locator("code").first.inner_text()).strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", random_key)

    await _sign_up(payer, base, "Ana Souza", payer_email)
    await _fund(database_url, payer_email, "80.00")
    await payer.goto(base + "/pix/send")
    await payer.get_by_label("Chave Pix ou código copia e cola").fill(random_key)
    await payer.get_by_label("Valor (R$)").fill("15,50")
    await payer.get_by_role("button", name="Continuar").click()
    await expect(payer.get_by_test_id("recipient-name")).to_have_text("Rui Costa")
    await expect(payer.get_by_test_id("recipient-bank")).to_have_text("Laura (ISPB 99999999)")
    await expect(payer.get_by_test_id("confirm-amount")).to_have_text("R$\xa015,50")
    await payer.screenshot(path=screenshot_path("pix-send-confirmation"), full_page=True)
    await payer.get_by_role("button", name="Pagar agora").dblclick()
    await expect(payer.get_by_role("heading", name="Transferência enviada")).to_be_visible()
    await expect(payer.locator("main")).to_contain_text(random_key)
    await payer.goto(base + "/")
    await expect(payer.get_by_test_id("balance")).to_contain_text("R$\xa064,50")  # once, not twice

    await payee.goto(base + "/")
    await expect(payee.get_by_test_id("balance")).to_contain_text("R$\xa015,50")
    await payer_context.close()
    await payee_context.close()


@pytest.fixture
async def platform(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[LauraProcess, str]]:
    """`laura up` on the test database: the API with its worker and a PSP sandbox it registered its
    webhook with; yields the process and the sandbox's URL."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    psp_port = free_port()
    env = laura_env(database_url, tmp_path / "data", LAURA_LOG_LEVEL="WARNING")
    async with laura_process(["up", "--psp-port", str(psp_port)], env, tmp_path / "run") as running:
        yield running, f"http://127.0.0.1:{psp_port}"


@pytest.fixture
async def browser_alone(platform) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def test_a_charges_qr_is_paid_in_the_sandbox_and_the_balance_updates_live(
    platform, browser_alone: Browser
) -> None:
    running, sandbox = platform
    base = running.url
    context = await browser_alone.new_context(locale="pt-BR")
    home, page = await context.new_page(), await context.new_page()
    await _sign_up(home, base, "Bia Lima", _email("bia"))
    await expect(home.locator("body[data-live=open]")).to_have_count(1)

    await page.goto(base + "/pix/receive")
    await page.get_by_label("Valor (R$)").fill("25,00")
    await page.get_by_role("button", name="Criar a cobrança").click()
    await expect(page.get_by_role("heading", name="Cobrança Pix de R$\xa025,00")).to_be_visible()
    qr = page.get_by_test_id("charge-qr")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    code = await page.get_by_test_id("copia-e-cola").input_value()
    assert code.startswith("000201")
    await page.screenshot(path=screenshot_path("pix-receive"), full_page=True)
    await expect(page.locator("body[data-live=open]")).to_have_count(1)

    txid = page.url.rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=sandbox, timeout=10) as control:
        (await control.post(f"/sandbox/cob/{txid}/pay")).raise_for_status()

    await expect(page.get_by_test_id("charge-status")).to_contain_text("Paga")  # no reload
    await expect(home.get_by_test_id("balance")).to_contain_text("R$\xa025,00")
    await expect(home.locator("#toasts")).to_contain_text("Sua cobrança Pix de R$\xa025,00 foi paga.")

    await page.goto(base + "/pix/send")  # a key of another institution: sent through the PSP
    await page.get_by_label("Chave Pix ou código copia e cola").fill("alguem@outrobanco.example")
    await page.get_by_label("Valor (R$)").fill("5,00")
    await page.get_by_role("button", name="Continuar").click()
    await expect(page.get_by_test_id("recipient-bank")).to_have_text("Outra instituição")
    await page.get_by_role("button", name="Pagar agora").click()
    await expect(page.get_by_role("heading", name="Transferência enviada")).to_be_visible()
    await expect(page.get_by_test_id("receipt-status")).to_have_text("Concluída")  # settled live, no reload
    await expect(home.get_by_test_id("balance")).to_contain_text("R$\xa020,00")
    await context.close()
