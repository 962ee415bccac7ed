"""The app with `LAURA_EVENTS_BUS=nats` against the real JetStream (skipped where none runs): a P2P transfer
made over HTTP reaches the sender's WebSocket through the stream, stored on its type's subject with its outbox
position as message id, also when the socket is on another API process than the transfer."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from laura.bank.seed import fund_customer
from laura.core.db import Database
from laura.core.events.nats_bus import NatsBus
from tests.bank.support import funded_customer
from tests.events_support import latest_event_id
from tests.helpers import auth_headers
from tests.nats_support import jetstream, nats_names, stored  # noqa: F401
from tests.realtime.client import Client, listening
from tests.server_process import laura_env, laura_process


async def first_of_type(socket: Client, kind: str) -> dict:
    """The first frame of `kind` among the next few: the account's opening events may still be on their way."""
    for _ in range(5):
        frame = await socket.frame()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


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
        frame = await first_of_type(socket, "transfer.completed")

    async with app.state.db.engine.connect() as conn:
        event = (
            await conn.execute(text("SELECT id, position FROM outbox WHERE type = 'transfer.completed'"))
        ).one()
    assert (frame["type"], frame["id"]) == ("transfer.completed", event.id)
    assert frame["data"]["amount"] == "40.25"
    [message] = await stored(jetstream, nats_names.stream, f"{nats_names.prefix}.events.transfer.completed")
    assert message.headers["Nats-Msg-Id"] == str(event.position)
    body = json.loads(message.data)
    assert (body["id"], body["recipients"]["userIds"]) == (event.id, [sender["id"]])


async def test_a_transfer_made_through_one_instance_reaches_a_socket_on_the_other(
    database_url, tmp_path, jetstream, nats_names
):
    """Two `laura serve` processes configured only by LAURA_* variables, as in production."""
    variables = {f"LAURA_{name.upper()}": value for name, value in nats_names.settings().items()}
    variables |= {
        "LAURA_ENVIRONMENT": "test",
        "LAURA_LOG_LEVEL": "WARNING",
        "LAURA_EVENTS_POLL_SECONDS": "0.5",
    }
    db = Database(database_url)
    try:
        async with (
            laura_process(
                ["serve"], laura_env(database_url, tmp_path / "a", **variables), tmp_path / "a"
            ) as a,
            laura_process(
                ["serve"], laura_env(database_url, tmp_path / "b", **variables), tmp_path / "b"
            ) as b,
            httpx.AsyncClient(base_url=a.url) as through_a,
        ):
            sender, headers = await auth_headers(through_a)
            recipient, _ = await auth_headers(through_a)
            async with db.unit_of_work() as session:
                await fund_customer(session, uuid.UUID(sender["id"]), Decimal("50.00"), reference="test:nats")
            ws_b = b.url.replace("http://", "ws://")
            async with listening(ws_b, headers["Authorization"].removeprefix("Bearer ")) as socket:
                response = await through_a.post(
                    "/api/transfers/p2p",
                    json={"recipientUserId": recipient["id"], "amount": 12.5},
                    headers=headers,
                )
                assert response.status_code == 201, response.text
                frame = await first_of_type(socket, "transfer.completed")
        event_id = await latest_event_id(db, "transfer.completed")
    finally:
        await db.dispose()

    assert (frame["type"], frame["id"]) == ("transfer.completed", event_id)
    [message] = await stored(jetstream, nats_names.stream, f"{nats_names.prefix}.events.transfer.completed")
    assert json.loads(message.data)["id"] == event_id
