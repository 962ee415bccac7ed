"""The real NATS server with JetStream for the event tests (skipped with a reason where none runs), a
stream and subject prefix of the test's own, and reading back what the stream stored."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from laura.core.events.nats_bus import NatsBus

TEST_NATS_URL = os.environ.get("LAURA_TEST_NATS_URL", "nats://127.0.0.1:4222")


@dataclass(frozen=True)
class Stored:
    subject: str
    headers: dict[str, str]
    data: bytes


@dataclass(frozen=True)
class NatsNames:
    """A stream and subject prefix no other test (or helper sharing the server) uses."""

    stream: str
    prefix: str

    def bus(self, cls: type[NatsBus] = NatsBus, **kwargs: Any) -> NatsBus:
        return cls(
            TEST_NATS_URL,
            stream=self.stream,
            subject_prefix=self.prefix,
            keepalive_seconds=1.0,
            retry_seconds=0.1,
            **kwargs,
        )

    def settings(self) -> dict[str, Any]:
        return {
            "events_bus": "nats",
            "nats_url": TEST_NATS_URL,
            "nats_stream": self.stream,
            "nats_subject_prefix": self.prefix,
        }


@pytest.fixture
async def jetstream() -> AsyncIterator[Any]:
    """A JetStream context on the test server; the test is skipped if there is no server or no JetStream."""
    nats = pytest.importorskip("nats", reason="nats-py (the `nats` extra) is not installed")
    try:
        nc = await nats.connect(
            TEST_NATS_URL, connect_timeout=1, max_reconnect_attempts=1, reconnect_time_wait=0
        )
    except Exception as exc:  # noqa: BLE001 - any failure to connect means no server here
        pytest.skip(f"no NATS server at {TEST_NATS_URL} ({type(exc).__name__})")
    js = nc.jetstream()
    try:
        await js.account_info()
    except Exception as exc:  # noqa: BLE001 - JetStream disabled on that server
        await nc.close()
        pytest.skip(f"NATS at {TEST_NATS_URL} has no JetStream ({type(exc).__name__})")
    yield js
    await nc.close()


@pytest.fixture
async def nats_names(jetstream: Any) -> AsyncIterator[NatsNames]:
    token = uuid.uuid4().hex[:12]
    names = NatsNames(stream=f"LAURA_TEST_{token}", prefix=f"lauratest{token}")
    yield names
    with contextlib.suppress(Exception):  # a test that never created it
        await jetstream.delete_stream(names.stream)


async def stored(jetstream: Any, stream: str, subjects: str) -> list[Stored]:
    """Every message the stream holds on `subjects` (a filter, wildcards allowed), in stream order."""
    from nats.js.errors import NotFoundError

    found: list[Stored] = []
    sequence = 1
    while True:
        try:
            message = await jetstream.get_msg(stream, sequence, subject=subjects, next=True)
        except NotFoundError:
            return found
        found.append(Stored(message.subject, dict(message.headers or {}), message.data))
        sequence = message.seq + 1
