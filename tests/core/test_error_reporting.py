"""Sentry: off without a DSN; with one, an unhandled error reaches the tracker (a local server catching the
envelope) tagged with its request id, and no token or card number goes with it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sentry_sdk
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core import error_reporting
from laura.core.db import Database
from laura.core.error_reporting import scrub_event, start_error_reporting
from laura.core.jobs import defer, job_task
from laura.settings import Settings
from tests.catching_server import CatchingServer, catching_server
from tests.jobs_support import job_status, running_worker

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNlY3JldA"
CARD = "4532 1112 3456 7890"


@job_task(name="tests.error_reporting.declined")
async def declined(session: AsyncSession, *, attempt: str) -> None:
    raise RuntimeError(f"card {CARD} declined ({attempt})")


@pytest.fixture
def tracker() -> Iterator[CatchingServer]:
    """The error tracker: a local server catching what Sentry sends; Sentry is switched off after."""
    with catching_server() as server:
        try:
            yield server
        finally:
            sentry_sdk.get_client().close(timeout=2)
            error_reporting._state.on = False


@pytest.fixture
def settings(settings: Settings, tracker: CatchingServer) -> Settings:
    host = tracker.url.removeprefix("http://")
    return settings.model_copy(update={"sentry_dsn": f"http://publickey@{host}/1"})


def _events(tracker: CatchingServer) -> list[dict]:
    """The error events of every envelope caught (an envelope is JSON lines: header, item header, item)."""
    events = []
    for envelope in tracker.received:
        lines = envelope.body.split(b"\n")
        for header, item in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(item))
    return events


def test_without_a_dsn_nothing_is_initialised():
    assert not start_error_reporting(Settings(_env_file=None))
    assert not sentry_sdk.get_client().is_active()


def test_before_send_redacts_tokens_card_numbers_and_secret_keys():
    event = {
        "event_id": "0123456789abcdef0123456789abcdef",
        "exception": {"values": [{"type": "ValueError", "value": f"card {CARD} with Bearer {JWT}"}]},
        "request": {"headers": {"Authorization": f"Bearer {JWT}"}, "url": "https://x/ws/" + JWT},
        "extra": {"password": "hunter2-hunter2", "nested": {"card_number": "4532111234567890"}},
    }
    scrubbed = json.dumps(scrub_event(event, {}))
    for secret in (JWT, CARD, "4532111234567890", "hunter2"):
        assert secret not in scrubbed
    assert "0123456789abcdef0123456789abcdef" in scrubbed  # ids are not card numbers
    assert scrubbed.count("[redacted]") >= 5


async def test_an_unhandled_error_is_reported_without_its_secrets(app, client, tracker):
    async def boom(request: Request) -> dict:
        raise RuntimeError(f"declined card {CARD} for Bearer {JWT}")

    app.add_api_route("/test-only/boom", boom, methods=["GET"])
    response = await client.get("/test-only/boom")
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)
    (event,) = _events(tracker)
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "declined card [redacted] for Bearer [redacted]"
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    raw = b"".join(envelope.body for envelope in tracker.received)
    assert JWT.encode() not in raw and b"4532" not in raw


async def test_a_job_that_failed_for_good_is_reported_with_its_task_and_id(settings, tracker):
    db = Database(settings.database_url)
    try:
        async with db.unit_of_work() as session:
            job_id = await defer(session, declined, args={"attempt": "first"})
        async with running_worker(settings) as worker:

            async def failed() -> bool:
                return await job_status(db, job_id) == "failed"

            await worker.until(failed)
    finally:
        await db.dispose()
    sentry_sdk.flush(timeout=10)
    (event,) = _events(tracker)
    assert event["tags"] == {"task": "tests.error_reporting.declined", "job_id": str(job_id)}
    assert event["exception"]["values"][0]["value"] == "card [redacted] declined (first)"
