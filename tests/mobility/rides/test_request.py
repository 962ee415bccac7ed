"""A ride request looks for drivers once: the drivers its first batch is offered to are the ones that one
search found (the request's own price needs no driver; the estimate route's ETA is not the request's)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from laura.mobility.matching import service as matching
from laura.settings import Settings
from tests.mobility.support import PAULISTA, admin, driver, passenger, request_ride


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ride_offer_batch_size": 2})


async def test_a_request_searches_for_drivers_once_and_offers_the_ride_to_what_it_found(
    app, client, monkeypatch
):
    admin_headers = await admin(app, client)
    fleet = [
        await driver(client, admin_headers, at=(PAULISTA[0] + 0.002 * (i + 1), PAULISTA[1])) for i in range(3)
    ]
    searches: list[list[str]] = []
    search = matching.nearest_available

    async def counted(*args, **kwargs):
        found = await search(*args, **kwargs)
        searches.append([str(m.driver_id) for m in found])
        return found

    monkeypatch.setattr(matching, "nearest_available", counted)
    _, rider = await passenger(client)
    ride = (await request_ride(client, rider)).json()
    assert ride["status"] == "OFFERED"
    async with app.state.db.sessionmaker() as session:
        offered = (
            await session.execute(
                text("SELECT driver_id FROM ride_offers WHERE ride_id = :r"), {"r": ride["id"]}
            )
        ).scalars()
        offered_ids = {str(d) for d in offered}
    assert searches == [[fleet[0].id, fleet[1].id]]
    assert offered_ids == {fleet[0].id, fleet[1].id}
