"""Blocking and unblocking a card, reporting it lost or stolen (final, and a physical one replaced),
cancelling a virtual card; every change audited and announced; another customer's card is 404."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.bank.cards.support import cards, number_of, physical, virtual
from tests.helpers import auth_headers


async def _block(client, headers, card_id, action="BLOCK", reason=None):
    return await client.post(
        f"/api/cards/{card_id}/block", json={"action": action, "reason": reason}, headers=headers
    )


async def test_block_and_unblock_go_back_and_forth_and_repeating_one_changes_nothing(app, client):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    blocked = await _block(client, headers, card["id"], reason="Segurança")
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["status"] == "BLOCKED" and blocked.json()["blockedAt"].endswith("Z")
    assert blocked.json()["replacementCardId"] is None
    again = await _block(client, headers, card["id"])
    assert again.json() == blocked.json()
    unblocked = await _block(client, headers, card["id"], "UNBLOCK")
    assert unblocked.status_code == 200 and unblocked.json()["status"] == "ACTIVE"
    assert unblocked.json()["blockedAt"] is None
    assert (await _block(client, headers, card["id"], "UNBLOCK")).json() == unblocked.json()
    async with app.state.db.engine.connect() as conn:
        actions = (
            (
                await conn.execute(
                    text("SELECT action FROM audit_logs WHERE resource_id = :id ORDER BY id"),
                    {"id": card["id"]},
                )
            )
            .scalars()
            .all()
        )
        events = (await conn.execute(text("SELECT type FROM outbox ORDER BY id"))).scalars().all()
    assert actions == ["CARD_ISSUED", "CARD_BLOCKED", "CARD_UNBLOCKED"]
    assert events[-2:] == ["card.blocked", "card.unblocked"]


async def test_a_lost_card_is_final_and_replaced_with_a_new_number(app, client):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    old_number, _ = await number_of(app, card["id"])
    lost = await _block(client, headers, card["id"], reason="LOST")
    assert lost.status_code == 200 and lost.json()["status"] == "LOST"
    replacement_id = lost.json()["replacementCardId"]
    listed = {c["id"]: c for c in await cards(client, headers)}
    assert listed[card["id"]]["status"] == "LOST"
    new = listed[replacement_id]
    assert new["type"] == "PHYSICAL" and new["status"] == "ACTIVE" and new["replacesCardId"] == card["id"]
    new_number, _ = await number_of(app, replacement_id)
    assert new_number != old_number
    for action in ("UNBLOCK", "BLOCK"):
        refused = await _block(client, headers, card["id"], action)
        assert refused.status_code == 409 and refused.json()["error"] == "CARD_PERMANENTLY_BLOCKED"
    assert (await virtual(client, headers)).status_code == 201  # the replacement bounds virtual cards now


async def test_a_blocked_card_reported_stolen_becomes_stolen(app, client):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    await _block(client, headers, card["id"])
    stolen = await _block(client, headers, card["id"], reason="stolen")
    assert stolen.json()["status"] == "STOLEN" and stolen.json()["replacementCardId"] is not None


async def test_a_stolen_virtual_card_is_not_replaced(app, client):
    _, headers = await auth_headers(client)
    made = (await virtual(client, headers)).json()
    stolen = await _block(client, headers, made["id"], reason="STOLEN")
    assert stolen.json()["status"] == "STOLEN" and stolen.json()["replacementCardId"] is None
    assert len(await cards(client, headers)) == 2


async def test_reporting_a_card_lost_five_times_at_once_replaces_it_once(app, client):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    answers = await asyncio.gather(*(_block(client, headers, card["id"], reason="LOST") for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
    listed = await cards(client, headers)
    assert len(listed) == 2 and sorted(c["status"] for c in listed) == ["ACTIVE", "LOST"]


async def test_concurrent_blocks_and_unblocks_leave_the_audit_trail_consistent(app, client):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    actions = ["BLOCK", "UNBLOCK"] * 10
    answers = await asyncio.gather(*(_block(client, headers, card["id"], a) for a in actions))
    assert {a.status_code for a in answers} == {200}
    async with app.state.db.engine.connect() as conn:
        trail = (
            (
                await conn.execute(
                    text(
                        "SELECT new_values->>'status' FROM audit_logs WHERE resource_id = :id AND action <> 'CARD_ISSUED'"
                        " ORDER BY id"
                    ),
                    {"id": card["id"]},
                )
            )
            .scalars()
            .all()
        )
        status = await conn.scalar(text("SELECT status FROM cards WHERE id = :id"), {"id": card["id"]})
    # each recorded change moved the card to the other status, starting from ACTIVE, ending where it is
    expected = ["BLOCKED" if i % 2 == 0 else "ACTIVE" for i in range(len(trail))]
    assert trail == expected and status == (trail[-1] if trail else "ACTIVE")


async def test_cancelling_a_physical_card_is_refused_and_a_cancelled_virtual_card_stays_cancelled(
    app, client
):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    refused = await client.post(f"/api/cards/{card['id']}/cancel", headers=headers)
    assert refused.status_code == 409 and refused.json()["error"] == "CARD_NOT_CANCELLABLE"
    made = (await virtual(client, headers)).json()
    first = await client.post(f"/api/cards/{made['id']}/cancel", headers=headers)
    again = await client.post(f"/api/cards/{made['id']}/cancel", headers=headers)
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert first.json()["cancelledAt"].endswith("Z")
    unblock = await _block(client, headers, made["id"], "UNBLOCK")
    assert unblock.status_code == 409


async def test_another_customers_card_is_not_found_on_every_route(app, client):
    _, owner = await auth_headers(client)
    _, other = await auth_headers(client)
    card = await physical(client, owner)
    made = (await virtual(client, owner)).json()
    for card_id in (card["id"], made["id"], "0192f0c8-0000-7000-8000-000000000000"):
        for response in (
            await _block(client, other, card_id),
            await _block(client, other, card_id, "UNBLOCK"),
            await client.post(f"/api/cards/{card_id}/cancel", headers=other),
        ):
            assert response.status_code == 404 and response.json()["error"] == "CARD_NOT_FOUND"
    assert {c["status"] for c in await cards(client, owner)} == {"ACTIVE"}
    assert not {card["id"], made["id"]} & {c["id"] for c in await cards(client, other)}
