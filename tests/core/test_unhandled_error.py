"""An unexpected error is a 500 that can be traced: its own request id in the body, the header and the log
line, and the security headers, like every other response; over a real keep-alive connection, where the
previous request's id must not leak into it."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import Request

from tests.events_support import eventually

SECURITY_HEADERS = (
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "strict-transport-security",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def peers(app) -> list[tuple[str, int]]:
    """Test-only routes: one answers, one raises; each records the client address it was called from."""
    seen: list[tuple[str, int]] = []

    async def fine(request: Request) -> dict:
        seen.append(tuple(request.client))
        return {"ok": True}

    async def boom(request: Request) -> dict:
        seen.append(tuple(request.client))
        raise RuntimeError("the test route failed on purpose")

    app.add_api_route("/test-only/fine", fine, methods=["GET"])
    app.add_api_route("/test-only/boom", boom, methods=["GET"])
    return seen


@pytest.fixture
async def live_url(app) -> AsyncIterator[str]:
    """The `app` fixture served by uvicorn on a real socket, in the test's event loop."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
        )
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started or task.done())
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 30)


async def test_a_500_on_a_keep_alive_connection_carries_its_own_request_id_and_the_security_headers(
    capsys, peers, live_url
) -> None:
    capsys.readouterr()
    async with httpx.AsyncClient(base_url=live_url, limits=httpx.Limits(max_connections=1)) as http:
        first = await http.get("/test-only/fine")
        failed = await http.get("/test-only/boom")
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    assert first.status_code == 200
    assert len(peers) == 2 and peers[0] == peers[1], "both requests must travel on the same connection"
    assert failed.status_code == 500
    assert failed.json()["error"] == "INTERNAL_ERROR"
    request_id = failed.json()["requestId"]
    assert request_id and failed.headers.get("x-request-id") == request_id
    assert request_id != first.headers["x-request-id"]
    for header in SECURITY_HEADERS:
        assert header in failed.headers, header
    errors = [entry for entry in logs if entry["event"] == "unhandled_error"]
    assert [(entry["request_id"], entry["level"]) for entry in errors] == [(request_id, "error")]
    assert "the test route failed on purpose" in errors[0]["exception"]


async def test_a_500_keeps_the_request_id_the_client_sent(peers, live_url, capsys) -> None:
    async with httpx.AsyncClient(base_url=live_url) as http:
        failed = await http.get("/test-only/boom", headers={"X-Request-Id": "trace-me-42"})

    assert failed.status_code == 500
    assert failed.json()["requestId"] == "trace-me-42"
    assert failed.headers["x-request-id"] == "trace-me-42"
