"""Reading the anti-fraud tables the way ops would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.mobility.support import accept, request_ride


async def rows(app, sql: str, **params) -> list:
    async with app.state.db.sessionmaker() as session:
        return list(await session.execute(text(sql), params))


async def flags_of(client, admin_headers: dict, user_id: str, **query) -> list[dict]:
    answer = await client.get("/admin/fraud/flags", params={"limit": 100, **query}, headers=admin_headers)
    assert answer.status_code == 200, answer.text
    return [f for f in answer.json()["data"] if f["subjectUserId"] == user_id]


async def drive(client, handle, rider: dict, pickup, dropoff, *, trail=None, app=None) -> dict:
    """A ride from request to COMPLETED with this driver; with `trail` ((lat, lon) points), the ride is
    made to have started 2 minutes ago and the points are reported 20 s apart over it, so the fare is
    measured on them."""
    ride = await request_ride(client, rider, pickup=pickup, dropoff=dropoff)
    assert ride.status_code == 201, ride.text
    ride_id = ride.json()["id"]
    assert (await accept(client, handle, ride_id)).status_code == 200
    for step in ("arrived", "start"):
        moved = await client.post(f"/rides/{ride_id}/{step}", headers=handle.headers)
        assert moved.status_code == 200, moved.text
    if trail:
        async with app.state.db.engine.begin() as conn:
            await conn.execute(
                text("UPDATE rides SET started_at = now() - interval '115 seconds' WHERE id = :r"),
                {"r": ride_id},
            )
            await conn.execute(
                text(
                    "UPDATE driver_locations SET recorded_at = now() - interval '300 seconds' WHERE driver_id = :d"
                ),
                {"d": handle.id},
            )
        start = datetime.now(UTC) - timedelta(seconds=110)
        for i, (lat, lon) in enumerate(trail):
            at = (start + timedelta(seconds=20 * i)).isoformat().replace("+00:00", "Z")
            located = await handle.locate(client, lat, lon, recordedAt=at)
            assert located.status_code == 200, located.text
    done = await client.post(f"/rides/{ride_id}/complete", headers=handle.headers)
    assert done.status_code == 200, done.text
    return done.json()
