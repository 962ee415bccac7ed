"""The bus that fans published events out to every API instance: PostgreSQL LISTEN/NOTIFY, or Redis pub/sub
(NATS JetStream is in `nats_bus`).

Each instance subscribes once and hands messages, in order, to its `Sink` (the WebSocket hub). After every
(re)subscription the sink is asked to `resync`, so what was published while the subscription was down is
read back from the outbox instead of being lost.
"""

from __future__ import annotations

import asyncio
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
import structlog

from laura.core.cancellation import stop_if_cancelled
from laura.core.db import plain_url
from laura.core.events.event import Event, dumps, reference

_log = structlog.get_logger("laura.events.bus")

NOTIFY_LIMIT = 8000
"""PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; larger events travel by reference."""


class Sink(Protocol):
    async def deliver(self, message: dict[str, Any]) -> None: ...

    async def resync(self) -> None: ...


class Bus(ABC):
    """Publishes inside the relay's transaction; `listen` runs until cancelled, resubscribing on failure."""

    def __init__(self, *, keepalive_seconds: float = 10.0, retry_seconds: float = 1.0) -> None:
        self.keepalive_seconds = keepalive_seconds
        self.retry_seconds = retry_seconds

    @abstractmethod
    async def publish(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """Send `events` in order; `conn` is the relay's connection, inside the transaction that marks them."""

    @abstractmethod
    async def _subscribe_and_consume(self, sink: Sink, subscribed: asyncio.Event) -> None:
        """Subscribe, set `subscribed`, resync, then deliver messages until the subscription breaks."""

    async def close(self) -> None:
        """Release what the bus opened itself (the NATS connection); the others borrow theirs."""

    async def listen(self, sink: Sink, subscribed: asyncio.Event) -> None:
        while True:
            try:
                await self._subscribe_and_consume(sink, subscribed)
            except Exception as exc:  # noqa: BLE001 - the subscriber outlives any database or broker failure
                stop_if_cancelled()
                _log.warning("event_bus_error", bus=type(self).__name__, error=repr(exc))
            await asyncio.sleep(self.retry_seconds)


class PostgresBus(Bus):
    """NOTIFY from the relay's transaction (sent on its commit); LISTEN on a dedicated connection."""

    channel = "laura_events"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = plain_url(url)

    async def publish(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        payloads = []
        for event in events:
            payload = dumps(event.bus_message())
            if len(payload.encode()) >= NOTIFY_LIMIT:
                payload = dumps(reference(event))
            payloads.append((self.channel, payload))
        await conn.executemany("SELECT pg_notify($1, $2)", payloads)

    async def _subscribe_and_consume(self, sink: Sink, subscribed: asyncio.Event) -> None:
        inbox: asyncio.Queue[str | None] = asyncio.Queue()
        conn = await asyncpg.connect(
            self.url, server_settings={"application_name": f"laura-events:{os.getpid()}"}
        )
        try:
            conn.add_termination_listener(lambda _conn: inbox.put_nowait(None))
            await conn.add_listener(
                self.channel, lambda _conn, _pid, _channel, payload: inbox.put_nowait(payload)
            )
            subscribed.set()
            await sink.resync()
            while True:
                stop_if_cancelled()
                if inbox.empty():
                    try:
                        async with asyncio.timeout(self.keepalive_seconds):
                            payload = await inbox.get()
                    except TimeoutError:
                        await conn.execute("SELECT 1", timeout=self.keepalive_seconds)
                        continue
                else:
                    payload = inbox.get_nowait()  # a busy loop drains the backlog without a timer per message
                if payload is None:
                    raise ConnectionError("event listener connection closed")
                await sink.deliver(json.loads(payload))
        finally:
            try:
                await asyncio.shield(conn.close(timeout=2))
            except Exception:  # noqa: BLE001 - closing a broken connection
                conn.terminate()


class RedisBus(Bus):
    """PUBLISH in a pipeline (ordered) from the relay; SUBSCRIBE on the app's Redis client.

    The channel is per database, so deployments sharing a Redis never see each other's events.
    """

    def __init__(self, redis: Any, channel: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.redis = redis
        self.channel = channel

    async def publish(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self.channel, dumps(event.bus_message()))
            await pipe.execute()

    async def _subscribe_and_consume(self, sink: Sink, subscribed: asyncio.Event) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            while (await pubsub.get_message(timeout=self.keepalive_seconds) or {}).get("type") != "subscribe":
                pass
            subscribed.set()
            await sink.resync()
            while True:
                stop_if_cancelled()
                # what is already buffered first, without a timer per message; then wait, pinging when idle
                message = await pubsub.get_message(timeout=0.0)
                if message is None:
                    message = await pubsub.get_message(timeout=self.keepalive_seconds)
                    if message is None:
                        await pubsub.ping()
                        continue
                if message["type"] == "message":
                    await sink.deliver(json.loads(message["data"]))
        finally:
            await pubsub.aclose()
