"""The rider's and the driver's pages over HTTP: sign-up with documents and the wait for approval, going
online, a ride requested from an estimate (once, whatever the clicks), the offer accepted on the driver's
screen, each step seen on both sides, the rider's Pix QR Code and rating, the driver's earnings and a
payout asked for once; refusals as sentences; another rider's ride is 404."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal

from tests.helpers import auth_headers, random_cpf
from tests.mobility.payments.support import rows, run_charge_jobs
from tests.mobility.payouts.support import earn
from tests.mobility.support import DriverHandle, admin, driver_body
from tests.pix.conftest import settings  # noqa: F401  (the PSP sandbox's settings)
from tests.pix.sandbox.fixtures import sandbox_server, sandbox_url  # noqa: F401
from tests.web.support import browser, csrf, form_post, hidden, sign_in

MASP = (-23.5614, -46.6559)


async def _driver_signs_up(app, client, http) -> tuple[dict, dict, str]:
    """A driver account, signed in on the web, documents and vehicle sent through the sign-up form."""
    user, headers = await auth_headers(client, user_type="driver", name="Diego Rocha")
    await sign_in(http, user["email"])
    assert (await http.get("/driver/dashboard")).headers["location"] == "/driver/signup"
    body = driver_body()
    sent = await form_post(
        http,
        "/driver/signup",
        "/driver/signup",
        {
            "full_name": "Diego Rocha",
            "cpf": body["cpf"],
            "cnh_number": body["cnhNumber"],
            "pix_key": body["pixKey"],
            "plate": body["vehicle"]["licensePlate"],
            "brand": "Chevrolet",
            "model": "Onix",
            "year": str(body["vehicle"]["year"]),
            "category": "standard",
        },
    )
    assert sent.status_code == 303, sent.text
    profile = (await client.get("/drivers/me", headers=headers)).json()
    return user, headers, profile["id"]


async def _online_at(http, lat: float, lon: float) -> None:
    went = await form_post(http, "/driver/dashboard", "/driver/online", {"online": "true"})
    assert went.status_code == 303, went.text
    page = await http.get("/driver/dashboard")
    moved = await http.post("/driver/location", data={"csrftoken": csrf(page.text), "lat": lat, "lon": lon})
    assert moved.status_code == 200, moved.text


async def _estimate(http, **values) -> str:
    form = {"pickup_place": "masp", "dropoff_place": "ibirapuera", "category": "standard", **values}
    response = await form_post(http, "/rider/new", "/rider/estimate", form)
    assert response.status_code == 200, response.text
    return response.text


def _confirmation(page: str) -> dict:
    names = (
        "csrftoken",
        "idempotency_key",
        "pickup_lat",
        "pickup_lon",
        "dropoff_lat",
        "dropoff_lon",
        "category",
    )
    return {name: hidden(page, name) for name in names}


async def _driver_step(http, ride_id: str, step: str) -> None:
    page = await http.get(f"/driver/rides/{ride_id}")
    moved = await http.post(f"/driver/rides/{ride_id}/{step}", data={"csrftoken": csrf(page.text)})
    assert moved.status_code == 303, moved.text


async def test_a_ride_from_request_to_payment_on_the_rider_and_driver_pages(app, client) -> None:
    admin_headers = await admin(app, client)
    async with browser(app) as driver_http, browser(app) as rider_http:
        _user, driver_headers, driver_id = await _driver_signs_up(app, client, driver_http)
        waiting = await driver_http.get("/driver/dashboard")
        assert 'data-testid="waiting-approval"' in waiting.text and "Aguardando aprovação" in waiting.text
        refused = await form_post(driver_http, "/driver/dashboard", "/driver/online", {"online": "true"})
        assert refused.status_code == 403 and "ainda não foi aprovado" in refused.text
        approved = await client.post(f"/admin/drivers/{driver_id}/approve", headers=admin_headers)
        assert approved.status_code == 200, approved.text
        await _online_at(driver_http, MASP[0] + 0.001, MASP[1])

        rider, rider_headers = await auth_headers(client, user_type="passenger", cpf=random_cpf())
        await sign_in(rider_http, rider["email"])
        quote = await _estimate(rider_http)
        assert 'data-testid="drivers-nearby">1<' in quote
        assert re.search(r'data-testid="estimate-fare">R\$\xa0\d+,\d\d<', quote)
        assert "Sem tarifa dinâmica agora" in quote
        form = _confirmation(quote)
        first, second = await asyncio.gather(
            rider_http.post("/rider/rides", data=form), rider_http.post("/rider/rides", data=form)
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        assert first.headers["location"] == second.headers["location"]
        ride_id = first.headers["location"].rsplit("/", 1)[1]
        again = await rider_http.post("/rider/rides", data=form)  # a refresh of the confirmation
        assert again.headers["location"] == first.headers["location"]
        active = (await client.get("/rides/active", headers=rider_headers)).json()["data"]
        assert [r["id"] for r in active] == [ride_id]
        assert (await rider_http.get("/rider/new")).headers["location"] == f"/rider/rides/{ride_id}"
        following = await rider_http.get(f"/rider/rides/{ride_id}")
        assert 'data-status="OFFERED"' in following.text and "Cancelar agora é grátis." in following.text
        assert "Rodada 1 de ofertas" in following.text

        dashboard = await driver_http.get("/driver/dashboard")
        assert f'data-ride-id="{ride_id}"' in dashboard.text
        assert (
            "Saindo de perto de MASP, Av. Paulista · indo para perto de Parque Ibirapuera" in dashboard.text
        )
        accept_form = re.search(
            rf'action="/driver/offers/{ride_id}/accept".*?name="idempotency_key" value="([^"]+)"',
            dashboard.text,
            re.DOTALL,
        )
        assert accept_form
        accepted = await driver_http.post(
            f"/driver/offers/{ride_id}/accept",
            data={"csrftoken": csrf(dashboard.text), "idempotency_key": accept_form.group(1)},
        )
        assert accepted.status_code == 303 and accepted.headers["location"] == f"/driver/rides/{ride_id}"
        seen = await rider_http.get(f"/rider/rides/{ride_id}")
        assert 'data-status="ACCEPTED"' in seen.text and "Diego Rocha" in seen.text
        assert 'data-marker="driver"' in seen.text

        trip = await driver_http.get(f"/driver/rides/{ride_id}")
        moved = await driver_http.post(
            "/driver/location", data={"csrftoken": csrf(trip.text), "lat": MASP[0] + 0.0005, "lon": MASP[1]}
        )
        assert moved.json()["rideId"] == ride_id
        assert 'data-status="DRIVER_ARRIVING"' in (await rider_http.get(f"/rider/rides/{ride_id}")).text
        await _driver_step(driver_http, ride_id, "arrived")
        arrived = await rider_http.get(f"/rider/rides/{ride_id}/panel")
        assert 'data-status="DRIVER_ARRIVED"' in arrived.text and "<html" not in arrived.text
        await _driver_step(driver_http, ride_id, "start")
        assert 'data-status="IN_PROGRESS"' in (await rider_http.get(f"/rider/rides/{ride_id}")).text
        await _driver_step(driver_http, ride_id, "complete")
        assert 'data-status="COMPLETED"' in (await driver_http.get(f"/driver/rides/{ride_id}")).text

        done = await rider_http.get(f"/rider/rides/{ride_id}")
        assert 'data-status="COMPLETED"' in done.text and "Preparando a cobrança Pix" in done.text
        await run_charge_jobs(app)
        paying = await rider_http.get(f"/rider/rides/{ride_id}")
        assert 'data-testid="pix-qr"' in paying.text and 'src="data:image/png;base64,' in paying.text
        qr = re.search(r'<textarea id="pix-code" readonly rows="3">([^<]+)<', paying.text)
        assert qr and qr.group(1).startswith("000201")
        same = await form_post(rider_http, f"/rider/rides/{ride_id}", f"/rider/rides/{ride_id}/payment", {})
        assert same.status_code == 303  # the live charge, unchanged
        assert qr.group(1) in (await rider_http.get(f"/rider/rides/{ride_id}")).text

        rated = await form_post(
            rider_http, f"/rider/rides/{ride_id}", f"/rider/rides/{ride_id}/rating", {"stars": "5"}
        )
        assert rated.status_code == 303
        assert "Você deu 5 de 5 estrelas." in (await rider_http.get(f"/rider/rides/{ride_id}")).text
        history = await rider_http.get("/rider/history")
        assert f"/rider/rides/{ride_id}" in history.text

        earnings = await driver_http.get("/driver/earnings")
        assert earnings.status_code == 200 and 'data-testid="available">R$\xa00,00<' in earnings.text
        too_little = await driver_http.post(
            "/driver/payouts",
            data={
                "csrftoken": csrf(earnings.text),
                "idempotency_key": hidden(earnings.text, "idempotency_key"),
                "amount": "50,00",
            },
        )
        assert too_little.status_code == 400, too_little.text
        assert "Seu saldo disponível não é suficiente para este valor." in too_little.text

    async with browser(app) as stranger:
        other, _ = await auth_headers(client, user_type="passenger", cpf=random_cpf())
        await sign_in(stranger, other["email"])
        assert (await stranger.get(f"/rider/rides/{ride_id}")).status_code == 404
        assert (await stranger.get(f"/driver/rides/{ride_id}")).status_code == 404  # not a driver
    assert driver_headers


async def test_a_payout_is_requested_once_whatever_the_clicks(app, client) -> None:
    app.state.settings = app.state.settings.model_copy(update={"driver_earnings_hold_hours": 0})
    admin_headers = await admin(app, client)
    async with browser(app) as http:
        user, headers, driver_id = await _driver_signs_up(app, client, http)
        assert (
            await client.post(f"/admin/drivers/{driver_id}/approve", headers=admin_headers)
        ).status_code == 200
        await earn(app, DriverHandle(user, headers, driver_id), "120.00")
        page = await http.get("/driver/earnings")
        assert 'data-testid="available">R$\xa0120,00<' in page.text
        form = {
            "csrftoken": csrf(page.text),
            "idempotency_key": hidden(page.text, "idempotency_key"),
            "amount": "50,00",
        }
        first, second = await asyncio.gather(
            http.post("/driver/payouts", data=form), http.post("/driver/payouts", data=form)
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        assert first.headers["location"] == second.headers["location"]
        again = await http.post("/driver/payouts", data=form)
        assert again.headers["location"] == first.headers["location"]
        listed = await http.get(first.headers["location"])
        assert 'data-testid="payout-requested"' in listed.text
        payouts = listed.text.split('data-testid="payouts"')[1].split("</ul>")[0]
        assert payouts.count("<li>") == 1 and "R$\xa050,00" in payouts and "Aguardando envio" in payouts
        assert await rows(app, "SELECT amount_cents FROM payouts WHERE driver_id = :d", d=driver_id) == [
            (5000,)
        ]
        assert 'data-testid="available">R$\xa070,00<' in listed.text
        below = await http.post(
            "/driver/payouts",
            data={
                "csrftoken": csrf(listed.text),
                "idempotency_key": hidden(listed.text, "idempotency_key"),
                "amount": "1,00",
            },
        )
        assert below.status_code == 422 and "abaixo do saque mínimo" in below.text


async def _requested(http) -> str:
    """A ride requested from the estimate's confirmation: its id."""
    confirmed = await http.post("/rider/rides", data=_confirmation(await _estimate(http)))
    assert confirmed.status_code == 303, confirmed.text
    return confirmed.headers["location"].rsplit("/", 1)[1]


async def _accept(http, ride_id: str) -> None:
    dashboard = await http.get("/driver/dashboard")
    key = re.search(
        rf'action="/driver/offers/{ride_id}/accept".*?name="idempotency_key" value="([^"]+)"',
        dashboard.text,
        re.DOTALL,
    )
    assert key, dashboard.text
    accepted = await http.post(
        f"/driver/offers/{ride_id}/accept",
        data={"csrftoken": csrf(dashboard.text), "idempotency_key": key.group(1)},
    )
    assert accepted.status_code == 303, accepted.text


async def test_a_declined_offer_ends_the_search_and_a_cancellation_shows_its_fee(app, client) -> None:
    admin_headers = await admin(app, client)
    async with browser(app) as driver_http, browser(app) as rider_http:
        _user, _headers, driver_id = await _driver_signs_up(app, client, driver_http)
        assert (
            await client.post(f"/admin/drivers/{driver_id}/approve", headers=admin_headers)
        ).status_code == 200
        await _online_at(driver_http, MASP[0] + 0.001, MASP[1])
        rider, _ = await auth_headers(client, user_type="passenger", cpf=random_cpf())
        await sign_in(rider_http, rider["email"])

        ride_id = await _requested(rider_http)
        dashboard = await driver_http.get("/driver/dashboard")
        declined = await driver_http.post(
            f"/driver/offers/{ride_id}/decline", data={"csrftoken": csrf(dashboard.text)}
        )
        assert declined.status_code == 303
        ended = await rider_http.get(f"/rider/rides/{ride_id}")
        assert 'data-status="EXPIRED"' in ended.text and "Nenhum motorista aceitou desta vez." in ended.text

        ride_id = await _requested(rider_http)  # canceled before acceptance: free, once whatever the clicks
        following = await rider_http.get(f"/rider/rides/{ride_id}")
        assert "Cancelar agora é grátis." in following.text
        cancel = {
            "csrftoken": csrf(following.text),
            "idempotency_key": hidden(following.text, "idempotency_key"),
        }
        first, second = await asyncio.gather(
            rider_http.post(f"/rider/rides/{ride_id}/cancel", data=cancel),
            rider_http.post(f"/rider/rides/{ride_id}/cancel", data=cancel),
        )
        assert first.status_code == second.status_code == 303, (first.text, second.text)
        canceled = await rider_http.get(f"/rider/rides/{ride_id}")
        assert 'data-status="CANCELED"' in canceled.text and "cancel-fee-charged" not in canceled.text

        ride_id = await _requested(rider_http)  # the driver is at the pickup: the fee applies
        await _accept(driver_http, ride_id)
        await _driver_step(driver_http, ride_id, "arrived")
        waiting = await rider_http.get(f"/rider/rides/{ride_id}")
        assert "Cancelar agora custa R$\xa05,00." in waiting.text
        cancel = {"csrftoken": csrf(waiting.text), "idempotency_key": hidden(waiting.text, "idempotency_key")}
        assert (await rider_http.post(f"/rider/rides/{ride_id}/cancel", data=cancel)).status_code == 303
        assert (await rider_http.post(f"/rider/rides/{ride_id}/cancel", data=cancel)).status_code == 303
        charged = await rider_http.get(f"/rider/rides/{ride_id}")
        assert 'data-testid="cancel-fee-charged">R$\xa05,00<' in charged.text
        assert await rows(app, "SELECT status, cancellation_fee FROM rides WHERE id = :r", r=ride_id) == [
            ("CANCELED", Decimal("5.00"))
        ]
        trip = await driver_http.get(f"/driver/rides/{ride_id}")
        assert 'data-status="CANCELED"' in trip.text and "Voltar às ofertas" in trip.text
    async with browser(app) as other_driver:
        await _driver_signs_up(app, client, other_driver)
        assert (await other_driver.get(f"/driver/rides/{ride_id}")).status_code == 404  # not their trip
        assert (await other_driver.get(f"/driver/rides/{ride_id}/panel")).status_code == 404


async def test_a_driver_sign_up_refusal_reads_next_to_its_field(app, client) -> None:
    user, _ = await auth_headers(client, user_type="driver")
    async with browser(app) as http:
        await sign_in(http, user["email"])
        body = driver_body()
        form = {
            "full_name": "Diego Rocha",
            "cpf": "111.111.111-11",
            "cnh_number": body["cnhNumber"],
            "pix_key": body["pixKey"],
            "plate": "ABC",
            "brand": "Fiat",
            "model": "Uno",
            "year": "1999",
            "category": "standard",
        }
        refused = await form_post(http, "/driver/signup", "/driver/signup", form)
        assert refused.status_code == 422
        assert re.search(r'id="plate-error">Digite uma placa como ABC1234 ou ABC1D23.<', refused.text)
        refused = await form_post(http, "/driver/signup", "/driver/signup", {**form, "plate": "ABC1D23"})
        assert refused.status_code == 422 and 'id="cpf-error">Digite um CPF válido.<' in refused.text
        assert 'value="Diego Rocha"' in refused.text  # what was typed stays
        assert (await http.get("/rider/new")).status_code == 404  # a driver has no rider screens
        english = await http.get("/driver/signup?lang=en")
        assert "<h1>Register as a driver</h1>" in english.text and 'lang="en"' in english.text
