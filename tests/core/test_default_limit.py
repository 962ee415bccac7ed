"""The per-client-IP default limit: every route but probes, webhooks and per-user-limited ones counts."""

import pytest


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_default": "3/minute"})


async def test_the_fourth_request_in_the_window_answers_429_and_probes_stay_open(client):
    for _ in range(3):
        assert (await client.get("/auth/me")).status_code == 401
    limited = await client.get("/auth/me")
    assert limited.status_code == 429, limited.text
    assert (
        limited.json()["error"] == "RATE_LIMITED"
        and limited.json()["requestId"] == limited.headers["X-Request-Id"]
    )
    assert int(limited.headers["Retry-After"]) >= 1
    for path in ("/health", "/.well-known/jwks.json", "/health"):
        assert (await client.get(path)).status_code == 200
