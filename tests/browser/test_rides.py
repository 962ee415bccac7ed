"""A ride in two browsers, as one person with two windows plays it: a driver signs up with documents and
vehicle and waits; an admin approves them in the console (the waiting page reloads on `driver.approved`);
the driver goes online; a rider (360 px) sets pickup and drop-off by clicking the city map, sees the
estimate and confirms; the offer appears live on the driver's screen with its countdown, is accepted, and
each step (on the way, at the pickup, on the trip, completed) shows on the rider's page without a reload
while the driver's simulated drive moves the car. Axe finds no serious violation on these screens."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Browser, Page, expect

from laura.web import ridemap
from tests.browser.conftest import screenshot_path
from tests.browser.test_accessibility import _violations
from tests.browser.test_console import _admin
from tests.mobility.support import driver_body

PASSWORD = "s3cret-passw0rd"
MASP = (-23.5614, -46.6559)
CONSOLACAO = (-23.5577, -46.6609)
SLOW_STEP_MS = 30_000
"""A simulated drive reports every 1.5 s; a leg of the trip takes a few of them."""


async def _sign_up(page: Page, base: str, link: str, name: str) -> None:
    await page.goto(base + "/login")
    await page.get_by_role("link", name=link).click()
    await page.get_by_label("Nome completo").fill(name)
    await page.get_by_label("E-mail", exact=True).fill(f"{uuid.uuid4().hex[:8]}@example.com")
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Criar conta").click()


async def _driver_documents(page: Page) -> None:
    body = driver_body()
    await expect(page.get_by_role("heading", name="Cadastre-se como motorista")).to_be_visible()
    await page.get_by_label("Nome completo, como na CNH").fill("Diego Rocha")
    await page.get_by_label("CPF", exact=True).fill(body["cpf"])
    await page.get_by_label("Número da CNH").fill(body["cnhNumber"])
    await page.get_by_label("Chave Pix para os seus saques").fill(body["pixKey"])
    await page.get_by_label("Placa", exact=True).fill(body["vehicle"]["licensePlate"])
    await page.get_by_label("Marca", exact=True).fill("Chevrolet")
    await page.get_by_label("Modelo", exact=True).fill("Onix")
    await page.get_by_label("Ano", exact=True).fill(str(body["vehicle"]["year"]))
    await page.get_by_role("button", name="Enviar para aprovação").click()


async def _approve(chromium: Browser, base: str, email: str) -> None:
    context = await chromium.new_context(locale="pt-BR")
    page = await context.new_page()
    await page.goto(base + "/login")
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Senha").fill(PASSWORD)
    await page.get_by_role("button", name="Entrar").click()
    await page.get_by_role("link", name="Motoristas a aprovar").first.click()
    await page.get_by_role("button", name="Aprovar Diego Rocha").click()
    await expect(page.get_by_role("status").filter(has_text="O motorista foi aprovado")).to_be_visible()
    await context.close()


async def _click_map(page: Page, lat: float, lon: float) -> None:
    svg = page.locator("svg[data-pick-map]")
    box = await svg.bounding_box()
    assert box is not None
    x, y = ridemap.xy(lat, lon)
    await svg.click(position={"x": x / ridemap.WIDTH * box["width"], "y": y / ridemap.HEIGHT * box["height"]})


async def _drive_leg(driver: Page) -> None:
    await driver.get_by_role("button", name="Simular o trajeto").click()
    await expect(driver.locator("[data-drive-status]")).to_have_text("Você chegou.", timeout=SLOW_STEP_MS)


async def test_a_rider_and_a_driver_see_every_step_of_a_ride(server, chromium: Browser, database_url) -> None:
    base = server.url
    admin_email = await _admin(database_url)
    driver_context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="pt-BR")
    rider_context = await chromium.new_context(viewport={"width": 360, "height": 760}, locale="pt-BR")
    driver, rider = await driver_context.new_page(), await rider_context.new_page()
    found: dict[str, list] = {}

    await _sign_up(driver, base, "Cadastre-se para dirigir", "Diego Rocha")
    await _driver_documents(driver)
    await expect(driver.get_by_test_id("waiting-approval")).to_contain_text("Aguardando aprovação")
    await expect(driver.locator("body[data-live=open]")).to_have_count(1)
    found["driver-waiting"] = await _violations(driver)
    await _approve(chromium, base, admin_email)
    online = driver.get_by_role("button", name="Ficar online")
    await expect(online).to_be_visible()  # the page reloaded on driver.approved
    async with driver.expect_response("**/driver/location") as reported:
        await online.click()
    answer = await reported.value
    assert answer.ok, (answer.status, await answer.text())
    await expect(driver.get_by_role("heading", name="Você está online")).to_be_visible()

    await _sign_up(rider, base, "Cadastre-se para viajar", "Paula Lima")
    await expect(rider.get_by_role("heading", name="Pedir corrida")).to_be_visible()
    await _click_map(rider, *MASP)
    await _click_map(rider, *CONSOLACAO)
    await expect(rider.locator("#pickup_lat")).to_have_value(re.compile(r"^-23\.56"))
    await expect(rider.locator("#dropoff_lon")).to_have_value(re.compile(r"^-46\.66"))
    await expect(rider.locator('svg [data-marker="dropoff"]')).to_have_count(1)
    found["rider-request"] = await _violations(rider)
    await rider.screenshot(path=screenshot_path("rider-request"), full_page=True)
    await rider.get_by_role("button", name="Ver o preço").click()
    await expect(rider.get_by_test_id("estimate-fare")).to_contain_text("R$")
    await expect(rider.get_by_test_id("drivers-nearby")).to_have_text("1")
    await expect(rider.get_by_test_id("surge")).to_contain_text("Sem tarifa dinâmica")
    found["rider-estimate"] = await _violations(rider)
    await rider.screenshot(path=screenshot_path("rider-estimate"), full_page=True)
    await rider.get_by_role("button", name="Confirmar corrida").click()
    status = rider.get_by_test_id("ride-status")
    await expect(status).to_have_text("Oferecida a motoristas por perto")
    await expect(rider.locator("body[data-live=open]")).to_have_count(1)

    offer = driver.get_by_test_id("offer")
    await expect(offer).to_be_visible()  # live: the offers list refreshed on ride.offered
    await expect(offer.locator(".countdown strong")).to_have_text(re.compile(r"^\d+ s$"))
    found["driver-offer"] = await _violations(driver)
    await driver.screenshot(path=screenshot_path("driver-offer"), full_page=True)
    await offer.get_by_role("button", name="Aceitar").click()
    await expect(driver.get_by_test_id("trip-status")).to_have_text("Um motorista aceitou")

    await expect(status).to_have_text("Um motorista aceitou")
    await expect(rider.get_by_test_id("driver")).to_contain_text("Diego Rocha")
    await expect(rider.locator("#toasts")).to_contain_text("Um motorista aceitou sua corrida.")
    found["rider-ride"] = await _violations(rider)
    await _drive_leg(driver)
    await expect(status).to_have_text("Motorista a caminho")
    await driver.get_by_role("button", name="Cheguei ao embarque").click()
    await expect(status).to_have_text("O motorista chegou ao embarque")
    await expect(rider.get_by_test_id("cancel-fee")).to_contain_text("Cancelar agora custa R$\xa05,00.")
    await driver.get_by_role("button", name="Iniciar a viagem").click()
    await expect(status).to_have_text("Em viagem")
    await _drive_leg(driver)
    found["driver-trip"] = await _violations(driver)
    await driver.screenshot(path=screenshot_path("driver-trip"), full_page=True)
    await driver.get_by_role("button", name="Concluir a viagem").click()
    await expect(driver.get_by_test_id("trip-status")).to_have_text("Concluída")

    await expect(status).to_have_text("Concluída")
    await expect(rider.get_by_test_id("fare")).to_contain_text("R$")
    await rider.screenshot(path=screenshot_path("rider-trip"), full_page=True)
    await rider.get_by_role("button", name="Enviar avaliação").click()
    await expect(rider.get_by_test_id("rated")).to_have_text("Você deu 5 de 5 estrelas.")
    found["rider-done"] = await _violations(rider)
    await driver.goto(base + "/driver/earnings")
    await expect(driver.get_by_role("heading", name="Ganhos")).to_be_visible()
    found["driver-earnings"] = await _violations(driver)
    await rider.goto(base + "/rider/history")
    await expect(rider.locator(".entries li")).to_have_count(1)
    assert found == {name: [] for name in found}, found
    await driver_context.close()
    await rider_context.close()
