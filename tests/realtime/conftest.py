"""The app served on a real socket (uvicorn in the test's event loop) for real WebSocket clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn

from laura.settings import Settings
from tests.events_support import eventually
from tests.server_process import free_port


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Re-check tokens often so a logout closes the socket within the test."""
    return settings.model_copy(update={"ws_auth_recheck_seconds": 0.2, "events_poll_seconds": 0.2})


@pytest.fixture
async def ws_url(app) -> AsyncIterator[str]:
    """`ws://127.0.0.1:<port>` serving the `app` fixture (whose lifespan is already running)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started or task.done())
    yield f"ws://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 30)
