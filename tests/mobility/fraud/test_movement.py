"""Rule 2: a location report implying over 200 km/h from the last one is refused (422, not stored, counted);
the second refusal in 24 hours (the tests' setting) flags the driver, once however many follow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from laura.mobility.fraud.metrics import LOCATION_REPORTS_REFUSED
from tests.mobility.fraud.support import flags_of, rows
from tests.mobility.support import IBIRAPUERA, PAULISTA, admin, driver


def _at(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat().replace("+00:00", "Z")


async def _stored(app, driver_id: str) -> tuple[list, int]:
    current = await rows(app, "SELECT lat, lon FROM driver_locations WHERE driver_id = :d", d=driver_id)
    (trail,) = await rows(app, "SELECT count(*) AS n FROM location_updates WHERE driver_id = :d", d=driver_id)
    return [(float(r.lat), float(r.lon)) for r in current], trail.n


def _refused_count() -> float:
    return LOCATION_REPORTS_REFUSED.labels("impossible_movement")._value.get()


async def test_a_jump_across_town_is_refused_not_stored_and_flags_on_the_second(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=PAULISTA)  # IBIRAPUERA is 2.9 km away, reported at once
    before = await _stored(app, handle.id)
    counted = _refused_count()

    first = await handle.locate(client, *IBIRAPUERA)

    assert first.status_code == 422, first.text
    assert first.json()["error"] == "IMPOSSIBLE_MOVEMENT"
    assert await _stored(app, handle.id) == before
    assert _refused_count() == counted + 1
    assert await flags_of(client, admin_headers, handle.user["id"]) == []

    burst = await asyncio.gather(*(handle.locate(client, *IBIRAPUERA) for _ in range(5)))

    assert {r.status_code for r in burst} == {422}
    assert await _stored(app, handle.id) == before
    (flag,) = await flags_of(client, admin_headers, handle.user["id"])
    assert (flag["rule"], flag["status"]) == ("impossible_movement", "OPEN")
    assert flag["details"]["refusals24h"] >= 2
    (signals,) = await rows(
        app, "SELECT count(*) AS n FROM fraud_signals WHERE subject_user_id = :u", u=handle.user["id"]
    )
    assert signals.n == 6


async def test_honest_driving_and_gps_jitter_are_not_judged(app, client):
    admin_headers = await admin(app, client)
    handle = await driver(client, admin_headers, at=None)
    start = await handle.locate(client, *PAULISTA, recordedAt=_at(90))
    assert start.status_code == 200, start.text

    # 1 km in 90 s is 40 km/h; then 111 m at once is a phone's GPS error, not a jump
    drove = await handle.locate(client, PAULISTA[0] - 0.009, PAULISTA[1])
    jitter = await handle.locate(client, PAULISTA[0] - 0.008, PAULISTA[1])

    assert (drove.status_code, jitter.status_code) == (200, 200), (drove.text, jitter.text)
    current, trail = await _stored(app, handle.id)
    assert current == [(PAULISTA[0] - 0.008, PAULISTA[1])] and trail == 3
    assert await flags_of(client, admin_headers, handle.user["id"]) == []
