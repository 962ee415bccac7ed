"""A sent one-time code is a credential: it crosses the outbox, the bus and the replay backlog sealed, and
only the user's own socket opens it."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from laura.identity.otp.delivery import open_code
from tests.events_support import latest_event_id
from tests.realtime.client import listening, opened, user_with_token


async def _stored(app, user_id: str) -> dict:
    async with app.state.db.engine.connect() as conn:
        row = await conn.execute(
            text(
                "SELECT data FROM outbox WHERE type = 'security.otp' AND user_ids = ARRAY[CAST(:u AS uuid)]"
            ),
            {"u": user_id},
        )
        return row.scalar_one()


async def test_the_code_reaches_the_users_socket_live_and_on_replay_and_is_stored_sealed(app, client, ws_url):
    user, token = await user_with_token(client)
    headers = {"Authorization": f"Bearer {token}"}
    async with listening(ws_url, token) as socket:
        assert (await client.post("/api/security/otp/send", headers=headers)).status_code == 202
        live = await socket.frame()
    assert live["type"] == "security.otp" and "sealedCode" not in live["data"]
    code = live["data"]["code"]
    assert len(code) == 6 and code.isdigit()

    stored = await _stored(app, user["id"])
    assert set(stored) == {"sealedCode", "expiresAt"} and code not in str(stored)
    assert open_code(app.state.cipher, user["id"], stored["sealedCode"]) == code
    other, _ = await user_with_token(client)
    with pytest.raises(InvalidTag):  # bound to its user: copied into another's event it opens nothing
        open_code(app.state.cipher, other["id"], stored["sealedCode"])

    event_id = await latest_event_id(app.state.db, "security.otp")
    async with opened(ws_url, token, since=event_id - 1) as replayed:
        assert (await replayed.frame())["data"]["code"] == code
