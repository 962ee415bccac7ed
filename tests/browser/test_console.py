"""The operations console in Chromium: an admin signs in, approves a pending driver (who may then go
online), reads the trial balance and opens every other section (the approval in the audit log, the chain
intact); a customer opening /ops sees the not-found page. Screenshots of the console's pages; axe-core
finds no serious violation on them."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Browser, expect

from laura.core.db import Database
from laura.identity.schemas import RegisterRequest
from laura.identity.service import create_privileged_user
from tests.browser.conftest import screenshot_path
from tests.browser.test_accessibility import _violations
from tests.mobility.support import driver_body

PASSWORD = "s3cret-passw0rd"


async def _admin(database_url: str) -> str:
    email = f"admin-{uuid.uuid4().hex[:6]}@example.com"
    db = Database(database_url)
    try:
        async with db.unit_of_work() as session:
            request = RegisterRequest(email=email, password=PASSWORD, name="Alice Admin")
            await create_privileged_user(session, request, role="admin")
    finally:
        await db.dispose()
    return email


async def _pending_driver(base: str, name: str) -> tuple[str, dict]:
    """A driver who registered over the API and waits for approval: (driver id, their headers)."""
    async with httpx.AsyncClient(base_url=base) as api:
        email = f"driver-{uuid.uuid4().hex[:6]}@example.com"
        body = {"email": email, "password": PASSWORD, "name": name, "userType": "driver"}
        assert (await api.post("/auth/register", json=body)).status_code == 201
        token = (await api.post("/auth/login", json={"email": email, "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['accessToken']}"}
        created = await api.post("/drivers", json=driver_body(fullName=name), headers=headers)
        assert created.status_code == 201, created.text
        return created.json()["id"], headers


async def test_an_admin_approves_a_driver_and_reads_the_trial_balance(
    server, chromium: Browser, database_url
) -> None:
    base = server.url
    driver_id, driver_headers = await _pending_driver(base, "Rita Motorista")
    email = await _admin(database_url)
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR")
    page = await context.new_page()
    await page.goto(base + "/login")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()  # an admin's home is the console
    await expect(page.get_by_role("heading", name="Console de operações")).to_be_visible()
    found = {"console": await _violations(page)}
    await page.screenshot(path=screenshot_path("console"), full_page=True)

    await page.get_by_role("link", name="Motoristas a aprovar").first.click()
    card = page.get_by_test_id("pending-driver").filter(has_text="Rita Motorista")
    await expect(card).to_be_visible()
    found["drivers"] = await _violations(page)
    await page.screenshot(path=screenshot_path("console-drivers"), full_page=True)
    await card.get_by_role("button", name="Aprovar Rita Motorista").click()
    await expect(page.get_by_role("status").filter(has_text="O motorista foi aprovado")).to_be_visible()
    await expect(page.get_by_test_id("pending-driver").filter(has_text="Rita Motorista")).to_have_count(0)
    async with httpx.AsyncClient(base_url=base) as api:
        went = await api.post(f"/drivers/{driver_id}/online", json={"online": True}, headers=driver_headers)
        assert went.status_code == 200, went.text

    await page.get_by_role("link", name="Balancete").first.click()
    await expect(page.get_by_test_id("balanced")).to_contain_text("o razão fecha")
    debits = await page.get_by_test_id("total-debits").inner_text()
    assert debits == await page.get_by_test_id("total-credits").inner_text()
    found["trial-balance"] = await _violations(page)
    await page.screenshot(path=screenshot_path("console-trial-balance"), full_page=True)
    await page.get_by_role("link", name=re.compile("^3100")).click()
    await expect(page.get_by_role("heading", name="3100")).to_be_visible()
    found["account"] = await _violations(page)
    for name, path in (
        ("rides", "/ops/rides"),
        ("support", "/ops/support"),
        ("jobs", "/ops/jobs"),
        ("webhooks", "/ops/webhooks"),
        ("audit", "/ops/audit?verify=1"),
        ("fraud", "/ops/fraud"),
        ("finance", "/ops/finance?groupBy=week"),
    ):
        await page.goto(base + path)
        found[name] = await _violations(page)
        await page.screenshot(path=screenshot_path(f"console-{name}"), full_page=True)
    await expect(page.get_by_test_id("finance-totals")).to_be_visible()
    await page.goto(base + "/ops/audit?action=DRIVER_APPROVED&verify=1")
    await expect(page.get_by_test_id("chain")).to_contain_text("A cadeia está íntegra")
    await expect(page.get_by_test_id("audit-row")).to_have_count(1)
    assert found == {name: [] for name in found}, found

    phone = await chromium.new_context(viewport={"width": 360, "height": 760}, locale="pt-BR")
    small = await phone.new_page()
    await small.goto(base + "/login")
    await small.get_by_label("E-mail", exact=True).fill(email)
    await small.get_by_label("Senha").fill(PASSWORD)
    await small.get_by_role("button", name="Entrar").click()
    await small.goto(base + "/ops/ledger")
    await small.screenshot(path=screenshot_path("console-trial-balance-phone"), full_page=True)
    await phone.close()
    await context.close()


async def test_a_customer_opening_the_console_sees_not_found(server, chromium: Browser) -> None:
    context = await chromium.new_context(locale="pt-BR")
    page = await context.new_page()
    from tests.browser.test_customer import _sign_up

    await _sign_up(page, server.url, "Ana Souza", f"ana-{uuid.uuid4().hex[:6]}@example.com")
    await expect(page.get_by_role("link", name="Operações")).to_have_count(0)
    response = await page.goto(server.url + "/ops/ledger")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Página não encontrada")).to_be_visible()
    await context.close()
