from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from .fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    control,
    receiver,
    receiver_server,
    sandbox_server,
    sandbox_url,
)

__all__ = ["control", "receiver", "receiver_server", "sandbox_server", "sandbox_url"]


@pytest.fixture
async def api(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A raw client on the sandbox that already holds a bearer token."""
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as client:
        response = await client.post(
            "/oauth/token", json={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
        )
        response.raise_for_status()
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client
