"""A small reverse proxy for the many-instances test, standing in for a load balancer: each request goes to
the next instance in turn; a request that fails at the connection level (refused, or the connection dropped
before the whole answer came back) is sent again, with the same headers, to the next instance, as nginx's
`proxy_next_upstream error non_idempotent` does; WebSocket upgrades are forwarded both ways.

The whole answer is read before any of it is sent on, so a retried request never answers twice. The proxy
counts what it did (answers per instance, failed attempts, requests in flight) for the test to look at."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.events_support import eventually
from tests.server_process import free_port

HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"content-length",
    b"te",
    b"trailer",
}
ANSWER_HEADERS_DROPPED = {b"connection", b"keep-alive", b"transfer-encoding", b"server", b"date"}
CONNECTION_FAILURES = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
"""What a dead or dying instance looks like; a timeout is not one (the request may still be running)."""


class RoundRobinProxy:
    """An ASGI app forwarding to `upstreams` (`host:port`), one after the other."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.answered: Counter[int] = Counter()
        self.in_flight: Counter[int] = Counter()
        self.failed_attempts = 0
        self._turn = itertools.count()
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(120.0),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )

    def _order(self) -> list[int]:
        """This request's instances: the next in turn first, then the others."""
        first = next(self._turn) % len(self.upstreams)
        return [(first + i) % len(self.upstreams) for i in range(len(self.upstreams))]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)

    @staticmethod
    def _forwarded_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = [
            (k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP and not k.startswith(b"sec-websocket")
        ]
        return [*headers, (b"x-forwarded-for", scope["client"][0].encode())]

    @staticmethod
    def _target(scope: Scope) -> str:
        query = scope.get("query_string", b"").decode()
        return scope["path"] + (f"?{query}" if query else "")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = self._forwarded_headers(scope)
        for index in self._order():
            request = self.http.build_request(
                scope["method"],
                f"http://{self.upstreams[index]}{self._target(scope)}",
                headers=headers,
                content=body,
            )
            self.in_flight[index] += 1
            try:
                answer = await self.http.send(request, stream=True)
                try:
                    content = b"".join([part async for part in answer.aiter_raw()])
                finally:
                    await answer.aclose()
            except CONNECTION_FAILURES:
                self.failed_attempts += 1
                continue
            finally:
                self.in_flight[index] -= 1
            self.answered[index] += 1
            kept = [(k, v) for k, v in answer.headers.raw if k.lower() not in ANSWER_HEADERS_DROPPED]
            await send(
                {
                    "type": "http.response.start",
                    "status": answer.status_code,
                    "headers": [*kept, (b"x-upstream", str(index).encode())],
                }
            )
            await send({"type": "http.response.body", "body": content})
            return
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b"no instance answered"})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        subprotocols = [Subprotocol(p) for p in scope.get("subprotocols", [])] or None
        headers = [(k.decode(), v.decode()) for k, v in self._forwarded_headers(scope)]
        upstream: ClientConnection | None = None
        for index in self._order():
            try:
                upstream = await connect(
                    f"ws://{self.upstreams[index]}{self._target(scope)}",
                    subprotocols=subprotocols,
                    additional_headers=headers,
                    open_timeout=60,
                )
                break
            except InvalidStatus:  # the instance refused the upgrade: so does the proxy
                await send({"type": "websocket.close", "code": 1008})
                return
            except OSError:
                self.failed_attempts += 1
        if upstream is None:
            await send({"type": "websocket.close", "code": 1011})
            return
        self.answered[index] += 1
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
        async with upstream:
            pumps = [
                asyncio.create_task(self._client_to_upstream(receive, upstream)),
                asyncio.create_task(self._upstream_to_client(upstream, send)),
            ]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    @staticmethod
    async def _client_to_upstream(receive: Receive, upstream: ClientConnection) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(message.get("code", 1000))
                return
            data = message.get("text")
            await upstream.send(data if data is not None else message.get("bytes") or b"")

    @staticmethod
    async def _upstream_to_client(upstream: ClientConnection, send: Send) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for data in upstream:
                kind = "text" if isinstance(data, str) else "bytes"
                await send({"type": "websocket.send", kind: data})
        with contextlib.suppress(Exception):  # the client may be gone already
            await send(
                {
                    "type": "websocket.close",
                    "code": upstream.close_code or 1000,
                    "reason": upstream.close_reason or "",
                }
            )


@asynccontextmanager
async def running_proxy(upstreams: list[str]) -> AsyncIterator[tuple[RoundRobinProxy, str]]:
    """The proxy served by uvicorn in the test's event loop; yields it and its `127.0.0.1:<port>`."""
    proxy = RoundRobinProxy(upstreams)
    port = free_port()
    config: Any = uvicorn.Config(proxy, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done())
        assert not task.done(), "the proxy did not start"
        yield proxy, f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 60)
        await proxy.http.aclose()
