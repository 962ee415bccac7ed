"""A real WebSocket client for the tests (the `websockets` package), speaking the `/ws` wire format."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.events_support import WAIT_SECONDS
from tests.helpers import login, register


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def frame(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.ws.recv(), WAIT_SECONDS))

    async def frames(self, count: int) -> list[dict[str, Any]]:
        return [await self.frame() for _ in range(count)]

    async def ping(self) -> None:
        """Round trip a ping; once the pong is back the server is routing events to this socket."""
        await self.ws.send(json.dumps({"type": "ping"}))
        assert await self.frame() == {"type": "pong"}

    async def close_code(self) -> int | None:
        """Read until the server closes the socket; returns its close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), WAIT_SECONDS)
        except ConnectionClosed:
            return self.ws.close_code


def _url(base: str, token: str, how: str, since: int | str | None) -> tuple[str, list[str] | None]:
    query = f"?since={since}" if since is not None else ""
    if how == "subprotocol":
        return f"{base}/ws{query}", ["bearer", token]
    if how == "query":
        return f"{base}/ws?token={token}" + (f"&since={since}" if since is not None else ""), None
    return f"{base}/ws/{token}{query}", None


@asynccontextmanager
async def opened(
    base: str, token: str, *, how: str = "subprotocol", since: int | str | None = None
) -> AsyncIterator[Client]:
    """An open socket, without waiting for anything (the server may close it at once)."""
    url, subprotocols = _url(base, token, how, since)
    async with connect(url, subprotocols=subprotocols, open_timeout=WAIT_SECONDS) as ws:
        yield Client(ws)


@asynccontextmanager
async def listening(base: str, token: str, *, how: str = "subprotocol") -> AsyncIterator[Client]:
    """An open socket already subscribed (a ping answered), so nothing published from now on is missed."""
    async with opened(base, token, how=how) as client:
        await client.ping()
        yield client


async def user_with_token(http: httpx.AsyncClient, *, user_type: str = "passenger") -> tuple[dict, str]:
    """A user whose registration publishes nothing (a customer's opens an account and issues a card, whose
    `card.issued` would be the first frame of a replay), so a test's frames are the events it sent."""
    user = await register(http, user_type=user_type)
    tokens = await login(http, user["email"])
    return user, tokens["accessToken"]
