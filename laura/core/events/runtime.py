"""One process's event machinery, started in the app lifespan: the bus subscription feeding the hub, and the
relay (which publishes only while it holds the leader lock)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from sqlalchemy.engine import make_url

from laura.core.db import Database, plain_url
from laura.core.events import outbox
from laura.core.events.bus import Bus, PostgresBus, RedisBus
from laura.core.events.event import Event
from laura.core.events.hub import Hub
from laura.core.events.relay import Relay
from laura.core.redis_client import redis_client

_log = structlog.get_logger("laura.events")

RESYNC_LIMIT = 10_000
"""At most this many events are read back after the bus subscription was down; older ones are replayed
by clients through `?since=`."""


class EventRuntime:
    """Delivers bus messages to the hub (the bus `Sink`) and answers replays from the outbox."""

    def __init__(self, db: Database, bus: Bus, *, poll_seconds: float = 1.0, retention_days: int = 7) -> None:
        self.db = db
        self.bus = bus
        self.hub = Hub()
        self.relay = Relay(db.url, bus, poll_seconds=poll_seconds, retention_days=retention_days)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, timeout: float = 30.0) -> None:
        """Return once the bus subscription is live, so nothing published afterwards is missed."""
        subscribed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self.bus.listen(self, subscribed), name="events-listener"),
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
        ]
        try:
            async with asyncio.timeout(timeout):
                await subscribed.wait()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.bus.close()

    async def deliver(self, message: dict[str, Any]) -> None:
        if message.get("ref"):
            async with self.db.sessionmaker() as session:
                event = await outbox.event_by_id(session, message["id"])
            if event is None:
                return
        else:
            event = Event.from_bus(message)
        self.hub.dispatch(event)

    async def resync(self) -> None:
        if self.hub.last_position is None:
            return
        async with self.db.sessionmaker() as session:
            events = await outbox.positioned_after(
                session, position=self.hub.last_position, limit=RESYNC_LIMIT
            )
        for event in events:
            self.hub.dispatch(event)
        if events:
            _log.info("events_resynced", count=len(events))

    async def replay(
        self, *, user_id: uuid.UUID, role: str, since_id: int, limit: int
    ) -> tuple[list[Event], bool]:
        """What a reconnecting client missed after event `since_id`, and whether older ones were cut off."""
        async with self.db.sessionmaker() as session:
            events = await outbox.replay(
                session, user_id=user_id, role=role, since_id=since_id, limit=limit + 1
            )
        return events[-limit:] if limit else [], len(events) > limit


def _redis_channel(database_url: str) -> str:
    return f"laura:events:{make_url(database_url).database}"


def bus_for(settings: Any, redis: Any | None) -> Bus:
    """The bus `events_bus` names; `auto` is Redis pub/sub when Redis is configured, else PostgreSQL NOTIFY."""
    url = plain_url(settings.database_url)
    kind = settings.events_bus
    if kind == "auto":
        kind = "redis" if redis is not None else "postgres"
    if kind == "nats":
        from laura.core.events.nats_bus import NatsBus

        return NatsBus(
            settings.nats_url,
            stream=settings.nats_stream,
            subject_prefix=settings.nats_subject_prefix,
            dedupe_window_seconds=settings.nats_dedupe_window_seconds,
            max_age_days=settings.events_retention_days,
        )
    if kind == "redis":
        return RedisBus(redis, _redis_channel(url))
    return PostgresBus(url)


async def start_events(app: Any) -> EventRuntime:
    """Build and start the runtime from `app.state`."""
    state = app.state
    settings = state.settings
    runtime = EventRuntime(
        state.db,
        bus_for(settings, state.redis),
        poll_seconds=settings.events_poll_seconds,
        retention_days=settings.events_retention_days,
    )
    await runtime.start()
    return runtime


@asynccontextmanager
async def relaying(settings: Any) -> AsyncIterator[None]:
    """A relay for a process without the API's event runtime (the job worker): it publishes while it leads
    and otherwise passes the wake-ups of its own commits on to the leader, so a job's events go out at once."""
    redis = redis_client(settings.redis_url)
    bus = bus_for(settings, redis)
    relay = Relay(
        settings.database_url,
        bus,
        poll_seconds=settings.events_poll_seconds,
        retention_days=settings.events_retention_days,
    )
    task = asyncio.create_task(relay.run(), name="events-relay")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=10)
        await bus.close()
        if redis is not None:
            await redis.aclose()
