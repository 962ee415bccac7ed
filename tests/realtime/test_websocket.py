"""`/ws` with real clients over a real socket: who receives what, ping/pong, 4401 for expired and revoked
tokens, and `?since=` replay without gaps or duplicates."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from websockets.exceptions import InvalidStatus

from laura.core.db import commit
from laura.core.events import publish
from tests.events_support import background, eventually, insert_uncommitted_event, latest_event_id
from tests.realtime.client import listening, opened, user_with_token


async def send(app, kind: str, *, user_ids=(), roles=(), data=None) -> int:
    async with app.state.db.unit_of_work() as session:
        await publish(session, kind, data or {"kind": kind}, user_ids=user_ids, roles=roles)
    return await latest_event_id(app.state.db, kind)


def open_sockets() -> float:
    return REGISTRY.get_sample_value("websocket_connections") or 0.0


async def test_ping_pong_with_the_token_as_subprotocol_query_or_path(client, ws_url):
    _, token = await user_with_token(client)
    before = open_sockets()
    async with opened(ws_url, token) as socket:
        assert socket.ws.subprotocol == "bearer"
        await socket.ping()
        assert open_sockets() == before + 1
        await socket.ws.send("not json")
        assert (await socket.frame())["type"] == "error"
        await socket.ping()
    for how in ("query", "path"):
        async with opened(ws_url, token, how=how) as socket:
            await socket.ping()
    await eventually(lambda: open_sockets() == before)


async def test_a_user_receives_their_events_and_not_another_users(app, client, ws_url):
    alice, alice_token = await user_with_token(client)
    bob, bob_token = await user_with_token(client)
    async with listening(ws_url, alice_token) as to_alice, listening(ws_url, bob_token) as to_bob:
        for_bob = await send(app, "transfer.received", user_ids=[bob["id"]], data={"amount": 150.0})
        for_alice = await send(app, "transfer.completed", user_ids=[alice["id"]], data={"amount": 99.9})

        frame = await to_alice.frame()
        assert frame["id"] == for_alice
        assert set(frame) == {"type", "data", "id", "occurredAt"}
        assert frame["type"] == "transfer.completed" and frame["data"] == {"amount": 99.9}
        assert frame["occurredAt"].endswith("Z")
        assert (await to_bob.frame())["id"] == for_bob


async def test_role_addressed_events_reach_every_holder_of_the_role_only(app, client, ws_url):
    _, driver_token = await user_with_token(client, user_type="driver")
    _, other_driver_token = await user_with_token(client, user_type="driver")
    passenger, passenger_token = await user_with_token(client, user_type="passenger")
    async with (
        listening(ws_url, driver_token) as driver,
        listening(ws_url, other_driver_token) as other_driver,
        listening(ws_url, passenger_token) as to_passenger,
    ):
        offered = await send(app, "ride.offered", roles=["driver"])
        own = await send(app, "ride.accepted", user_ids=[passenger["id"]])

        assert (await driver.frame())["id"] == offered
        assert (await other_driver.frame())["id"] == offered
        assert (await to_passenger.frame())["id"] == own


async def test_expired_or_invalid_token_is_closed_with_4401(app, client, ws_url):
    _, token = await user_with_token(client)
    claims = app.state.signer.verify(token)
    expired = app.state.signer.issue(
        subject=claims["sub"],
        session_id=claims["sid"],
        role=claims["role"],
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    for bad in (expired, "not-a-jwt"):
        for how in ("subprotocol", "query", "path"):
            async with opened(ws_url, bad, how=how) as socket:
                assert await socket.close_code() == 4401


async def test_socket_closes_with_4401_when_the_token_expires(app, client, ws_url):
    _, token = await user_with_token(client)
    claims = app.state.signer.verify(token)
    ttl = app.state.signer.ttl_seconds
    short_lived = app.state.signer.issue(
        subject=claims["sub"],
        session_id=claims["sid"],
        role=claims["role"],
        now=datetime.now(UTC) - timedelta(seconds=ttl - 2),
    )
    async with listening(ws_url, short_lived) as socket:
        assert await socket.close_code() == 4401


async def test_logout_closes_the_socket_with_4401(client, ws_url):
    _, token = await user_with_token(client)
    async with listening(ws_url, token) as socket:
        response = await client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 204
        assert await socket.close_code() == 4401


async def test_reconnect_with_since_replays_what_was_missed_then_continues_live(app, client, ws_url):
    user, token = await user_with_token(client)
    other, _ = await user_with_token(client)
    async with listening(ws_url, token) as socket:
        seen = [await send(app, f"test.{n}", user_ids=[user["id"]]) for n in range(3)]
        assert [f["id"] for f in await socket.frames(3)] == seen

    missed = [await send(app, f"test.missed.{n}", user_ids=[user["id"]]) for n in range(3)]
    await send(app, "test.not_mine", user_ids=[other["id"]])
    async with opened(ws_url, token, since=seen[-1]) as socket:
        assert [f["id"] for f in await socket.frames(3)] == missed
        live = await send(app, "test.live", user_ids=[user["id"]])
        assert (await socket.frame())["id"] == live


async def test_since_replays_a_lower_id_that_committed_after_the_clients_last_event(app, client, ws_url):
    user, token = await user_with_token(client)
    async with app.state.db.sessionmaker() as slow:
        low = await insert_uncommitted_event(slow, "test.low", [user["id"]])
        async with listening(ws_url, token) as socket:
            high = await send(app, "test.high", user_ids=[user["id"]])
            assert (await socket.frame())["id"] == high
        await commit(slow)

    assert low < high
    async with opened(ws_url, token, since=high) as socket:
        assert (await socket.frame())["id"] == low


async def test_replay_is_bounded_and_says_so(app, client, ws_url):
    user, token = await user_with_token(client)
    app.state.settings = app.state.settings.model_copy(update={"ws_backlog_limit": 2})
    async with listening(ws_url, token) as socket:
        first = await send(app, "test.first", user_ids=[user["id"]])
        ids = [await send(app, f"test.{n}", user_ids=[user["id"]]) for n in range(4)]
        assert [f["id"] for f in await socket.frames(5)] == [first, *ids]
    async with opened(ws_url, token, since=first) as socket:
        truncated, *frames = await socket.frames(3)
    assert truncated == {"type": "replay.truncated", "data": {"limit": 2}}
    assert [f["id"] for f in frames] == ids[-2:]


async def test_reconnecting_while_events_flow_loses_and_repeats_nothing(app, client, ws_url):
    user, token = await user_with_token(client)
    published: list[int] = []

    async def producer() -> None:
        for n in range(60):
            published.append(await send(app, f"test.flow.{n}", user_ids=[user["id"]]))
            await asyncio.sleep(0.005)

    received: list[int] = []
    async with background(producer()) as producing:
        async with listening(ws_url, token) as socket:
            received += [f["id"] for f in await socket.frames(5)]
        for _ in range(3):
            async with opened(ws_url, token, since=received[-1]) as socket:
                received += [f["id"] for f in await socket.frames(5)]
        await producing
        async with opened(ws_url, token, since=received[-1]) as socket:
            received += [f["id"] for f in await socket.frames(len(published) - len(received))]

    assert received == published


async def test_an_unknown_since_id_replays_from_the_nearest_earlier_event(app, client, ws_url):
    user, token = await user_with_token(client)
    ids = [await send(app, f"test.{n}", user_ids=[user["id"]]) for n in range(2)]
    async with opened(ws_url, token, since=0) as socket:
        assert [f["id"] for f in await socket.frames(2)] == ids
    async with opened(ws_url, token, since=ids[-1] + 1000) as socket:
        live = await send(app, "test.live", user_ids=[user["id"]], data={"n": str(uuid.uuid4())})
        assert (await socket.frame())["id"] == live


async def test_a_malformed_since_is_refused_at_the_handshake(client, ws_url):
    _, token = await user_with_token(client)
    with pytest.raises(InvalidStatus) as refused:
        async with opened(ws_url, token, how="query", since="latest"):
            pass
    assert refused.value.response.status_code == 403
