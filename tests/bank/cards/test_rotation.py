"""`laura keys rotate` for cards: every card sealed again under a new data key in batches, numbers and
look-ups unchanged, resumable when interrupted, nothing to do the second time; an instance that loaded
its keys before the rotation learns the new key on the next card it seals or opens."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from laura.app import create_app
from laura.bank.cards.keys import RotationMode, key_id, rotate
from tests.bank.cards.support import cards, enrolled, next_code, number_of, reveal, virtual
from tests.helpers import auth_headers


async def _sealed(app) -> dict[str, tuple]:
    async with app.state.db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id::text, key_id, number_sealed, number_hash FROM cards"))
        return {row[0]: tuple(row[1:]) for row in rows}


async def test_rotation_reseals_every_card_resumes_when_interrupted_and_then_has_nothing_to_do(app, client):
    owners = [await auth_headers(client) for _ in range(3)]
    _, headers = owners[0]
    made = [(await virtual(client, headers)).json() for _ in range(2)]
    before = await _sealed(app)
    numbers = {card_id: await number_of(app, card_id) for card_id in before}
    assert len(before) == 5 and {key for key, _, _ in before.values()} == {key_id(1)}
    keyring, db = app.state.card_issuer.keyring, app.state.db
    progress: list[tuple[int, int]] = []

    interrupted = await rotate(db, keyring, batch=2, max_batches=1, progress=lambda *p: progress.append(p))
    assert (interrupted.key_id, interrupted.created, interrupted.resealed, interrupted.remaining) == (
        key_id(2),
        True,
        2,
        3,
    )
    assert progress == [(0, 5), (2, 5)]
    resumed = await rotate(db, keyring, batch=2)  # auto: finishes with the same key, makes none
    assert (resumed.key_id, resumed.created, resumed.resealed, resumed.remaining) == (key_id(2), False, 3, 0)
    after = await _sealed(app)
    assert {key for key, _, _ in after.values()} == {key_id(2)}
    for card_id, (_, sealed, number_hash) in after.items():
        assert sealed != before[card_id][1] and number_hash == before[card_id][2]
        assert await number_of(app, card_id) == numbers[card_id]
    again = await rotate(db, keyring, mode=RotationMode.FINISH)
    assert (again.created, again.resealed) == (False, 0) and await _sealed(app) == after
    async with db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM card_keys")) == 2

    totp = await enrolled(client, headers)
    shown = await reveal(client, headers, made[0]["id"], next_code(totp))
    assert shown.status_code == 200 and shown.json()["number"] == made[0]["number"]

    fresh = await rotate(db, keyring, batch=500)  # nothing unfinished: auto starts a rotation
    assert (fresh.key_id, fresh.created, fresh.resealed) == (key_id(3), True, 5)


async def test_an_instance_started_before_a_rotation_seals_under_the_new_key_and_opens_the_new_ones(
    app, client, settings
):
    _, headers = await auth_headers(client)
    earlier = create_app(settings)
    async with earlier.router.lifespan_context(earlier):
        await rotate(app.state.db, app.state.card_issuer.keyring)  # another process rotates
        transport = httpx.ASGITransport(app=earlier)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            made = await virtual(other, headers)
            assert made.status_code == 201
            async with earlier.state.db.engine.connect() as conn:
                sealed_under = await conn.scalar(
                    text("SELECT key_id FROM cards WHERE id = :id"), {"id": made.json()["id"]}
                )
            assert sealed_under == key_id(2)
            totp = await enrolled(other, headers)
            [physical] = [c for c in await cards(other, headers) if c["type"] == "PHYSICAL"]
            shown = await reveal(other, headers, physical["id"], next_code(totp))
    assert shown.status_code == 200
    assert shown.json()["number"].replace(" ", "") == (await number_of(app, physical["id"]))[0]
