"""`/ws` for a web page: its session cookie authenticates the socket when the handshake comes from our own
origin; a cross-site page (or a client that sends no Origin) riding the cookie is closed with 4403 before any
event, a forged cookie with 4401, and signing out of the web closes the open socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import connect

from laura.core.events import publish
from tests.events_support import WAIT_SECONDS
from tests.helpers import register
from tests.realtime.client import Client
from tests.web.support import browser, form_post, sign_in


@asynccontextmanager
async def _signed_in(app, email: str) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """A web sign-in: its `laura_session` cookie and the client holding it (to sign out with)."""
    async with browser(app) as http:
        await sign_in(http, email)
        yield http.cookies["laura_session"], http


@asynccontextmanager
async def _socket(ws_url: str, cookie: str, origin: str | None) -> AsyncIterator[Client]:
    async with connect(
        f"{ws_url}/ws",
        additional_headers={"Cookie": f"laura_session={cookie}"},
        origin=origin,  # type: ignore[arg-type]
        open_timeout=WAIT_SECONDS,
    ) as ws:
        yield Client(ws)


def _own_origin(ws_url: str) -> str:
    return "http://" + urlsplit(ws_url).netloc


async def test_a_page_of_ours_is_streamed_its_users_events_on_the_cookie(app, client, ws_url) -> None:
    ana, rui = await register(client), await register(client)
    async with (
        _signed_in(app, ana["email"]) as (cookie, _),
        _socket(ws_url, cookie, _own_origin(ws_url)) as ws,
    ):
        await ws.ping()
        async with app.state.db.unit_of_work() as session:
            await publish(session, "transfer.received", {"amount": "1.00"}, user_ids=[rui["id"]])
            await publish(session, "transfer.received", {"amount": "2.50"}, user_ids=[ana["id"]])
        frame = await ws.frame()
        assert frame["type"] == "transfer.received" and frame["data"] == {"amount": "2.50"}


async def test_a_cookie_from_another_sites_page_or_without_origin_is_refused_with_4403(
    app, client, ws_url
) -> None:
    ana = await register(client)
    async with _signed_in(app, ana["email"]) as (cookie, _):
        for origin in ("http://evil.example", "null", None):
            async with _socket(ws_url, cookie, origin) as ws:
                assert await ws.close_code() == 4403, origin


async def test_a_forged_cookie_is_refused_with_4401(ws_url) -> None:
    async with _socket(ws_url, "eyJzaWQiOiJ4In0.forged.sig", _own_origin(ws_url)) as ws:
        assert await ws.close_code() == 4401


async def test_signing_out_of_the_web_closes_the_socket(app, client, ws_url) -> None:
    ana = await register(client)
    async with (
        _signed_in(app, ana["email"]) as (cookie, http),
        _socket(ws_url, cookie, _own_origin(ws_url)) as ws,
    ):
        await ws.ping()
        signed_out = await form_post(http, "/", "/logout", {})
        assert signed_out.status_code == 303
        assert await ws.close_code() == 4401
