from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from laura.pix.psp import CircuitBreaker, EfiClient

from ..sandbox.fixtures import CLIENT_ID, CLIENT_SECRET, control, sandbox_server, sandbox_url

__all__ = ["control", "sandbox_server", "sandbox_url"]


def make_client(base_url: str, **options: object) -> EfiClient:
    """A client with short backoffs (tests) unless told otherwise."""
    settings: dict[str, object] = {"timeout": 5.0, "retries": 2, "backoff_base": 0.01, "backoff_max": 0.05}
    settings.update(options)
    return EfiClient(base_url, CLIENT_ID, CLIENT_SECRET, **settings)  # type: ignore[arg-type]


@pytest.fixture
async def client(sandbox_url: str) -> AsyncIterator[EfiClient]:
    async with make_client(sandbox_url, breaker=CircuitBreaker(failure_threshold=5, reset_timeout=30)) as efi:
        yield efi
