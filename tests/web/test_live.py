"""The home's live part over HTTP: the page loads live.js and names the events that refresh its summary,
`/home/summary` renders the balance and last transactions alone, and a signed-out fragment request is sent
to /login as a whole window (HX-Redirect), never with the login page swapped into the home."""

from __future__ import annotations

from tests.bank.support import funded_customer
from tests.web.support import browser, sign_in


async def test_the_home_listens_for_money_events_and_its_summary_renders_alone(app, client) -> None:
    customer, _ = await funded_customer(app, client, "42.50")
    async with browser(app) as http:
        await sign_in(http, customer["email"])
        home = (await http.get("/")).text
        assert '<script src="/static/live.js" defer></script>' in home
        assert 'hx-get="/home/summary"' in home and "laura:transfer.received from:body" in home
        assert 'data-live-toast="transfer.received"' in home and "{amount|money}" in home
        summary = await http.get("/home/summary", headers={"HX-Request": "true"})
        assert summary.status_code == 200
        assert "<html" not in summary.text and "R$\xa042,50" in summary.text
        assert summary.headers["cache-control"] == "no-store"
        script = await http.get("/static/live.js")
        assert script.status_code == 200 and "laura:" in script.text


async def test_a_signed_out_fragment_request_redirects_the_window(app) -> None:
    async with browser(app) as http:
        page = await http.get("/home/summary")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fhome%2Fsummary"
        fragment = await http.get(
            "/home/summary", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/"}
        )
        assert fragment.status_code == 204 and fragment.headers["hx-redirect"] == "/login"
        login = (await http.get("/login")).text
        assert "live.js" not in login  # no socket for a visitor
