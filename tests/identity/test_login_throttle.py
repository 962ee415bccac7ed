"""Five failed logins for one account within the window answer 429 with Retry-After."""

import pytest

from tests.helpers import register


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_default": "1000/minute"})


async def test_five_failed_logins_answer_429_with_retry_after(client):
    user = await register(client)
    for _ in range(5):
        response = await client.post(
            "/auth/login", json={"email": user["email"], "password": "wrong-password"}
        )
        assert response.status_code == 401
    blocked = await client.post("/auth/login", json={"email": user["email"], "password": user["password"]})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"] == "RATE_LIMITED"
