"""Live updates in Chromium: a P2P sent from one browser appears on the receiver's open home without a
reload (balance, last transactions and a toast), over the WebSocket the page opens on its session cookie."""

from __future__ import annotations

import uuid

from playwright.async_api import Browser, expect

from tests.browser.conftest import screenshot_path
from tests.browser.test_customer import _fund, _sign_up


async def test_a_p2p_appears_live_on_the_receivers_home(server, chromium: Browser, database_url) -> None:
    base = server.url
    sender_email, receiver_email = (
        f"ana-{uuid.uuid4().hex[:6]}@example.com",
        f"rui-{uuid.uuid4().hex[:6]}@example.com",
    )
    sender_context = await chromium.new_context(locale="pt-BR")
    receiver_context = await chromium.new_context(viewport={"width": 360, "height": 760}, locale="pt-BR")
    sender, receiver = await sender_context.new_page(), await receiver_context.new_page()
    await _sign_up(sender, base, "Ana Souza", sender_email)
    await _sign_up(receiver, base, "Rui Costa", receiver_email)
    await _fund(database_url, sender_email, "50.00")
    await expect(receiver.locator("body[data-live=open]")).to_have_count(1)  # the socket is open

    await sender.goto(base + "/transfers/p2p")
    await sender.get_by_label("E-mail de quem recebe").fill(receiver_email)
    await sender.get_by_label("Valor (R$)").fill("7,25")
    await sender.get_by_role("button", name="Continuar").click()
    await sender.get_by_role("button", name="Transferir agora").click()
    await expect(sender.get_by_role("heading", name="Transferência enviada")).to_be_visible()

    await expect(receiver.get_by_test_id("balance")).to_contain_text("R$\xa07,25")  # no reload
    await expect(receiver.locator(".entries")).to_contain_text("+R$\xa07,25")
    await expect(receiver.locator("#toasts")).to_contain_text("Você recebeu R$\xa07,25.")
    await receiver.screenshot(path=screenshot_path("home-live"), full_page=True)
    await sender_context.close()
    await receiver_context.close()
