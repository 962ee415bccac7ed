"""PATCH /api/transfers/{id}: the customer tags an outgoing transfer with the spending category it counts
in; the spending layer follows, the change is audited and published; another's transfer is 404 and an
unknown category 422, with nothing written either way."""

from __future__ import annotations

import uuid

from laura.bank.spending.windows import Period, period_window
from laura.core.models import utcnow
from tests.bank.spending.support import by_category, sent
from tests.bank.support import funded_customer
from tests.sql_support import rows


async def test_tagging_moves_the_transfer_between_categories(app, client) -> None:
    user, headers = await funded_customer(app, client, "500.00")
    friend, friend_headers = await funded_customer(app, client)
    transfer = await sent(client, headers, friend["id"], "120.00")
    month = period_window(Period.MONTHLY, utcnow())
    listed = await client.get("/api/transfers", headers=headers)
    assert listed.json()["data"][0]["category"] == "TRANSFERS"

    tagged = await client.patch(f"/api/transfers/{transfer}", json={"category": "EDUCATION"}, headers=headers)
    assert tagged.status_code == 200, tagged.text
    assert tagged.json()["id"] == transfer and tagged.json()["category"] == "EDUCATION"
    assert (await client.get(f"/api/transfers/{transfer}", headers=headers)).json()["category"] == "EDUCATION"
    assert await by_category(app, user["id"], month) == {"EDUCATION": (120_00, 1)}

    again = await client.patch(f"/api/transfers/{transfer}", json={"category": "EDUCATION"}, headers=headers)
    assert again.status_code == 200 and again.json()["category"] == "EDUCATION"
    cleared = await client.patch(f"/api/transfers/{transfer}", json={"category": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["category"] == "TRANSFERS"
    assert await by_category(app, user["id"], month) == {"TRANSFERS": (120_00, 1)}

    audited = await rows(
        app.state.db,
        "SELECT actor_id::text, old_values, new_values FROM audit_logs"
        " WHERE action = 'TRANSFER_CATEGORIZED' AND resource_id = $1 ORDER BY id",
        transfer,
    )
    assert audited == [
        (user["id"], {"category": "TRANSFERS"}, {"category": "EDUCATION"}),
        (user["id"], {"category": "EDUCATION"}, {"category": "TRANSFERS"}),
    ]
    events = await rows(
        app.state.db,
        "SELECT data->>'category', user_ids FROM outbox WHERE type = 'transfer.categorized' ORDER BY id",
    )
    assert events == [("EDUCATION", [uuid.UUID(user["id"])]), ("TRANSFERS", [uuid.UUID(user["id"])])]

    # the recipient sees no such transfer of theirs: 404, and nothing changes
    theirs = await client.patch(
        f"/api/transfers/{transfer}", json={"category": "FOOD"}, headers=friend_headers
    )
    assert theirs.status_code == 404 and theirs.json()["error"] == "TRANSFER_NOT_FOUND"
    unknown = await client.patch(f"/api/transfers/{uuid.uuid4()}", json={"category": "FOOD"}, headers=headers)
    assert unknown.status_code == 404
    assert await by_category(app, user["id"], month) == {"TRANSFERS": (120_00, 1)}


async def test_an_unknown_category_is_refused_and_nothing_written(app, client) -> None:
    _, headers = await funded_customer(app, client, "50.00")
    friend, _ = await funded_customer(app, client)
    transfer = await sent(client, headers, friend["id"], "10.00")
    for body in ({"category": "GAMBLING"}, {"category": "food"}, {}, {"category": 3}):
        refused = await client.patch(f"/api/transfers/{transfer}", json=body, headers=headers)
        assert refused.status_code == 422, (body, refused.text)
    assert (await client.get(f"/api/transfers/{transfer}", headers=headers)).json()["category"] == "TRANSFERS"
    audited = await rows(
        app.state.db, "SELECT count(*) FROM audit_logs WHERE action = 'TRANSFER_CATEGORIZED'"
    )
    assert audited == [(0,)]
    anonymous = await client.patch(f"/api/transfers/{transfer}", json={"category": "FOOD"})
    assert anonymous.status_code == 401
