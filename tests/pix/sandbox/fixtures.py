"""Shared fixtures for the PSP client and sandbox tests: a sandbox and a webhook receiver over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from laura.pix.sandbox import BackgroundServer, SandboxConfig, start_sandbox_in_background

CLIENT_ID = "laura-test"
CLIENT_SECRET = "laura-test-secret"
PIX_KEY = "pix@laura.example"

# Short delays so that settlement and webhook retries happen within a test.
FAST_CONFIG = SandboxConfig(
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    send_settle_delay=0.05,
    webhook_max_attempts=4,
    webhook_backoff_base=0.05,
    webhook_backoff_max=0.2,
    webhook_timeout=2.0,
)

T = TypeVar("T")


async def wait_until(
    probe: Callable[[], Awaitable[T]] | Callable[[], T], *, timeout: float = 15.0, interval: float = 0.02
) -> T:
    """Poll `probe` until it returns something truthy, failing the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


class Receiver:
    """A webhook receiver that records every POST and can answer 500 to the first N of them."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = 0
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])
        self.server = BackgroundServer(app)

    @property
    def url(self) -> str:
        return self.server.url

    async def _handle(self, request: Request) -> Response:
        self.requests.append(
            {"path": request.url.path, "query": request.url.query, "json": await request.json()}
        )
        if self.fail_first > 0:
            self.fail_first -= 1
            return PlainTextResponse("boom", status_code=500)
        return PlainTextResponse("200")

    def reset(self) -> None:
        self.requests.clear()
        self.fail_first = 0


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[BackgroundServer]:
    server = start_sandbox_in_background(FAST_CONFIG)
    yield server
    server.stop()


@pytest.fixture
def sandbox_url(sandbox_server: BackgroundServer) -> str:
    """The sandbox's URL, with its state reset for this test."""
    httpx.post(f"{sandbox_server.url}/sandbox/reset").raise_for_status()
    return sandbox_server.url


@pytest.fixture
async def control(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client on the sandbox, for control routes and raw API calls."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.server.start()
    yield receiver
    receiver.server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.reset()
    return receiver_server
