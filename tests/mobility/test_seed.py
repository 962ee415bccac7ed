"""The demo seed: diego@ and duda@ approved and online on Av. Paulista, paula@ and pedro@ with passenger
profiles; running it twice changes nothing."""

from __future__ import annotations

from sqlalchemy import text

from laura.seed import DEMO_PASSWORD, seed_demo
from tests.helpers import login
from tests.mobility.support import PAULISTA


async def test_demo_drivers_are_matchable_and_the_seed_is_idempotent(app, client, settings):
    await seed_demo(settings)
    await seed_demo(settings)
    async with app.state.db.sessionmaker() as session:
        drivers = (
            await session.execute(
                text(
                    "SELECT u.email, d.approval_status, d.online, l.available, v.license_plate FROM drivers d"
                    " JOIN users u ON u.id = d.user_id JOIN vehicles v ON v.driver_id = d.id"
                    " JOIN driver_locations l ON l.driver_id = d.id ORDER BY u.email"
                )
            )
        ).all()
        passengers = await session.scalar(
            text(
                "SELECT count(*) FROM passengers p JOIN users u ON u.id = p.user_id"
                " WHERE u.email LIKE 'p%@laura.dev'"
            )
        )
    assert [(d.email, d.approval_status, d.online, d.available) for d in drivers] == [
        ("diego@laura.dev", "APPROVED", True, True),
        ("duda@laura.dev", "APPROVED", True, True),
    ]
    assert passengers == 2

    tokens = await login(client, "paula@laura.dev", DEMO_PASSWORD)
    headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
    trip = {"pickup": {"lat": PAULISTA[0], "lon": PAULISTA[1]}, "dropoff": {"lat": -23.5874, "lon": -46.6576}}
    quote = (await client.post("/rides/estimate", json=trip, headers=headers)).json()
    assert quote["availableDrivers"] == 1 and quote["pickupEtaSeconds"] is not None
