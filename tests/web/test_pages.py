"""The web app over HTTP (httpx against the app): redirects, session cookie, CSRF, language, money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from laura.web import i18n
from tests.helpers import register
from tests.web.support import browser, csrf, form_post, sign_in


async def test_a_visitor_is_sent_to_login(client) -> None:
    home = await client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/login"
    form = await client.get("/transfers/p2p")
    assert form.headers["location"] == "/login?next=%2Ftransfers%2Fp2p"
    login = await client.get("/login")
    assert login.status_code == 200
    assert "text/html" in login.headers["content-type"]


async def test_sign_in_sets_an_httponly_lax_cookie_and_opens_home(app, client) -> None:
    user = await register(client, name="Ana Souza")
    async with browser(app) as http:
        opened = await http.get("/login")
        response = await http.post(
            "/login",
            data={"csrftoken": csrf(opened.text), "email": user["email"], "password": user["password"]},
        )
        assert response.status_code == 303
        cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("laura_session="))
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= flags
        assert "secure" not in flags
        home = await http.get("/")
        assert home.status_code == 200
        assert "Olá, Ana Souza" in home.text
        assert "R$\xa00,00" in home.text


async def test_the_cookie_is_secure_over_https(app, client) -> None:
    user = await register(client)
    async with browser(app, "https://testserver") as http:
        opened = await http.get("/login")
        response = await http.post(
            "/login",
            data={"csrftoken": csrf(opened.text), "email": user["email"], "password": user["password"]},
        )
        cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("laura_session="))
        assert "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}


async def test_a_wrong_password_reads_as_a_sentence(app, client) -> None:
    user = await register(client)
    async with browser(app) as http:
        response = await form_post(
            http, "/login", "/login", {"email": user["email"], "password": "nope-nope"}
        )
        assert response.status_code == 401
        assert "E-mail ou senha incorretos." in response.text
        assert '"error"' not in response.text and "Traceback" not in response.text


async def test_a_form_post_without_its_csrf_token_is_refused(app, client) -> None:
    user = await register(client)
    async with browser(app) as http:
        bare = await http.post("/login", data={"email": user["email"], "password": user["password"]})
        assert bare.status_code == 403
        assert "Este formulário expirou" in bare.text
        await sign_in(http, user["email"])
        forged = await http.post("/logout", data={"csrftoken": "forged"})
        assert forged.status_code == 403
        assert (await http.get("/")).status_code == 200  # still signed in: the forged logout did nothing


async def test_sign_out_ends_the_session_itself(app, client) -> None:
    user = await register(client)
    async with browser(app) as http:
        await sign_in(http, user["email"])
        kept = http.cookies.get("laura_session")
        out = await form_post(http, "/", "/logout", {})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert (await http.get("/")).status_code == 303
    async with browser(app) as replay:  # the old cookie, replayed: its session is revoked
        replay.cookies.set("laura_session", kept)
        assert (await replay.get("/")).status_code == 303


async def test_sign_up_opens_an_account(app, client) -> None:
    async with browser(app) as http:
        data = {
            "name": "Bia Lima",
            "email": "bia@example.com",
            "password": "s3cret-passw0rd",
            "user_type": "customer",
        }
        created = await form_post(http, "/register", "/register", data)
        assert created.status_code == 303, created.text
        home = await http.get("/")
        assert "Olá, Bia Lima" in home.text
    async with browser(app) as again:
        taken = await form_post(again, "/register", "/register", data)
        assert taken.status_code == 409
        assert "Já existe uma conta com este e-mail." in taken.text
        short = await form_post(
            again, "/register", "/register", {**data, "email": "c@example.com", "password": "x"}
        )
        assert short.status_code == 422
        assert "A senha é curta demais." in short.text


async def test_portuguese_by_default_english_on_request(app) -> None:
    async with browser(app) as http:
        default = await http.get("/login")
        assert '<html lang="pt-BR">' in default.text and ">Entrar<" in default.text
        english = await http.get("/login?lang=en")
        assert '<html lang="en">' in english.text and ">Sign in<" in english.text
        assert http.cookies.get("laura_lang") == "en"
        remembered = await http.get("/login")
        assert ">Sign in<" in remembered.text
        back = await http.get("/login?lang=pt-BR")
        assert ">Entrar<" in back.text


def test_money_and_dates_read_as_in_brazil() -> None:
    assert i18n.money(Decimal("1234.56"), "pt_BR") == "R$\xa01.234,56"
    assert i18n.money(Decimal("-0.5"), "pt_BR") == "-R$\xa00,50"
    assert i18n.money(Decimal("1234.56"), "en") == "R$1,234.56"
    # 02:00 UTC on New Year's day is still the 31st in Brasília (UTC-3)
    assert i18n.when(datetime(2026, 1, 1, 2, 0, tzinfo=UTC), "pt_BR") == "31/12/2025 23:00"
