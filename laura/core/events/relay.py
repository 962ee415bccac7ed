"""The relay: one leader per database moves committed outbox rows to the bus, in order, and marks them sent.

Every process runs one. After a commit with events the local relay is woken: the leader publishes at once,
a follower passes the wake-up on to the leader with a NOTIFY on its own connection, outside the business
transaction (one in flight per process, so a burst of commits costs a few). The NOTIFY is deliberately
not sent by the business transaction itself: PostgreSQL serializes every notifying transaction through
its commit under one database-wide lock, which would queue all of them behind each other's WAL flush.

Leadership is a session advisory lock on the relay's own connection, and the relay does all its work on
that connection: if it dies, its open transaction dies with the lock, so two leaders never write at once.
Publication is at least once (bus first, then the mark, a crash in between repeats the batch with the
same positions); subscribers drop what they have already seen by position.
"""

from __future__ import annotations

import asyncio
import os
import time

import asyncpg
import structlog
from prometheus_client import Counter, Histogram

from laura.core.cancellation import stop_if_cancelled
from laura.core.db import plain_url
from laura.core.events import outbox
from laura.core.events.bus import Bus

OUTBOX_PUBLISHED = Counter("outbox_published", "Outbox events published to the bus")
OUTBOX_LAG = Histogram(
    "outbox_lag_seconds",
    "From an event's occurrence to its publication on the bus",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

_PRUNE_BATCH = 10_000
_log = structlog.get_logger("laura.events.relay")
_local: set[Relay] = set()


def wake_local() -> None:
    for relay in _local:
        relay.wake()


class Relay:
    """Runs forever: campaign for leadership, then publish whenever woken and at least every poll interval."""

    def __init__(
        self,
        url: str,
        bus: Bus,
        *,
        poll_seconds: float = 1.0,
        batch_size: int = 500,
        retention_days: int = 7,
        prune_every_seconds: float = 3600.0,
    ) -> None:
        self.url = plain_url(url)
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.retention_days = retention_days
        self.prune_every_seconds = prune_every_seconds
        self.is_leader = False
        self._wake = asyncio.Event()
        self._next_prune = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        _local.add(self)
        try:
            while True:
                try:
                    await self._lead()
                except Exception as exc:  # noqa: BLE001 - the relay outlives any database or bus failure
                    stop_if_cancelled()
                    _log.warning("outbox_relay_error", error=repr(exc))
                await asyncio.sleep(self.poll_seconds)
        finally:
            _local.discard(self)

    async def _lead(self) -> None:
        conn = await asyncpg.connect(
            self.url, server_settings={"application_name": f"laura-relay:{os.getpid()}"}
        )
        try:
            own_pid = conn.get_server_pid()

            def wake(_conn: object, pid: int, *_: object) -> None:
                if pid != own_pid:
                    self._wake.set()

            await conn.add_listener(outbox.WAKE_CHANNEL, wake)
            while not await outbox.try_lead(conn):
                while await self._idle():
                    await outbox.wake_leader(conn)
            self.is_leader = True
            _log.info("outbox_relay_leading")
            while True:
                while await self.relay_batch(conn):
                    pass
                await self._prune(conn)
                await self._idle()
        finally:
            self.is_leader = False
            try:
                await asyncio.shield(conn.close(timeout=2))
            except Exception:  # noqa: BLE001 - closing a broken connection
                conn.terminate()

    async def relay_batch(self, conn: asyncpg.Connection) -> bool:
        """Publish one batch; True when a full batch went out and more may be waiting.

        A backlog is published batch after batch with no idle wait in between, so each batch first looks
        for a stop that a driver call swallowed: else shutdown waited for the backlog to drain.
        """
        stop_if_cancelled()
        async with conn.transaction():
            events = await outbox.claim(conn, self.batch_size)
        if not events:
            return False
        async with conn.transaction():
            await self.bus.publish(conn, events)
            await outbox.mark_published(conn, [event.id for event in events])
        now = time.time()
        for event in events:
            OUTBOX_LAG.observe(max(0.0, now - event.occurred_at.timestamp()))
        OUTBOX_PUBLISHED.inc(len(events))
        return len(events) == self.batch_size

    async def _prune(self, conn: asyncpg.Connection) -> None:
        """Drop rows published more than `retention_days` ago, in batches, publishing in between."""
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + self.prune_every_seconds
        total = 0
        while deleted := await outbox.prune(conn, older_than_days=self.retention_days, batch=_PRUNE_BATCH):
            total += deleted
            if deleted < _PRUNE_BATCH:
                break
            await self.relay_batch(conn)
        if total:
            _log.info("outbox_pruned", rows=total)

    async def _idle(self) -> bool:
        """Wait to be woken (True) or for the poll interval to pass (False)."""
        stop_if_cancelled()
        woken = True
        try:
            async with asyncio.timeout(self.poll_seconds):
                await self._wake.wait()
        except TimeoutError:
            woken = False
        self._wake.clear()
        return woken
