"""The app with `LAURA_EVENTS_BUS=nats` against the real JetStream (skipped where none runs): a P2P transfer
made over HTTP reaches the sender's WebSocket through the stream, stored on its type's subject with its outbox
position as message id."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from laura.core.events.nats_bus import NatsBus
from tests.bank.support import funded_customer
from tests.nats_support import jetstream, nats_names, stored  # noqa: F401
from tests.realtime.client import listening


@pytest.fixture
def settings(settings, nats_names):
    return settings.model_copy(update=nats_names.settings())


async def test_a_p2p_transfer_reaches_the_senders_socket_through_the_stream(
    app, client, ws_url, jetstream, nats_names
):
    assert isinstance(app.state.events.bus, NatsBus)
    sender, headers = await funded_customer(app, client, "100.00")
    recipient, _ = await funded_customer(app, client)
    async with listening(ws_url, headers["Authorization"].removeprefix("Bearer ")) as socket:
        response = await client.post(
            "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": 40.25}, headers=headers
        )
        assert response.status_code == 201, response.text
        frames = [await socket.frame()]
        while frames[-1]["type"] != "transfer.completed" and len(frames) < 5:
            frames.append(await socket.frame())  # the account's opening events may still be on their way

    async with app.state.db.engine.connect() as conn:
        event = (
            await conn.execute(text("SELECT id, position FROM outbox WHERE type = 'transfer.completed'"))
        ).one()
    frame = frames[-1]
    assert (frame["type"], frame["id"]) == ("transfer.completed", event.id)
    assert frame["data"]["amount"] == "40.25"
    [message] = await stored(jetstream, nats_names.stream, f"{nats_names.prefix}.events.transfer.completed")
    assert message.headers["Nats-Msg-Id"] == str(event.position)
    body = json.loads(message.data)
    assert (body["id"], body["recipients"]["userIds"]) == (event.id, [sender["id"]])
