"""At most 5 accept attempts a minute per driver (replays of a key do not count)."""

from __future__ import annotations

import pytest

from laura.settings import Settings
from tests.mobility.support import accept, admin, driver, passenger, request_ride


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limits_enabled": True, "rate_limit_default": "10000/minute"})


async def test_the_sixth_accept_in_a_minute_is_429(app, client):
    taker = await driver(client, await admin(app, client))
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    first = await accept(client, taker, ride["id"], "same")
    assert first.status_code == 200
    for _ in range(3):
        assert (await accept(client, taker, ride["id"], "same")).status_code == 200
    answers = [await accept(client, taker, ride["id"]) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert answers[-1].json()["error"] == "RATE_LIMITED" and "Retry-After" in answers[-1].headers
