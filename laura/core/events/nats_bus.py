"""NATS JetStream as the bus: events are stored in a stream that other services can consume as well.

The relay publishes each event to `<prefix>.events.<type>` with its outbox position as `Nats-Msg-Id`, so a
batch repeated after a relay crash (publication is at least once) is stored once within the stream's
duplicate window. Each API instance reads the stream through an ordered consumer from "now" on and, like the
other buses, resyncs from the outbox after every (re)subscription. `nats-py` (the `nats` extra) is imported
only when this bus is chosen.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from laura.core.cancellation import stop_if_cancelled
from laura.core.events.bus import Bus, Sink
from laura.core.events.event import Event, dumps, reference

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext

_log = structlog.get_logger("laura.events.nats")

CONNECT_TIMEOUT_SECONDS = 2

_NOT_A_SUBJECT_TOKEN = re.compile(r"[^A-Za-z0-9_.-]")


def subject_token(event_type: str) -> str:
    """An event type as subject tokens: dots stay separators, wildcards and blanks never reach a subject."""
    return ".".join(part or "_" for part in _NOT_A_SUBJECT_TOKEN.sub("_", event_type).split("."))


class NatsBus(Bus):
    """One NATS connection per process, shared by the relay's publishing and the hub's subscription."""

    def __init__(
        self,
        url: str,
        *,
        stream: str,
        subject_prefix: str,
        dedupe_window_seconds: float = 120.0,
        max_age_days: float = 7.0,
        publish_timeout_seconds: float = 10.0,
        **kwargs: Any,
    ) -> None:
        if importlib.util.find_spec("nats") is None:
            raise RuntimeError("LAURA_EVENTS_BUS=nats needs nats-py: pip install 'laura[nats]'")
        super().__init__(**kwargs)
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.dedupe_window_seconds = dedupe_window_seconds
        self.max_age_days = max_age_days
        self.publish_timeout_seconds = publish_timeout_seconds
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._lock = asyncio.Lock()

    def events_subject(self, event_type: str) -> str:
        return f"{self.subject_prefix}.events.{subject_token(event_type)}"

    def dead_letter_subject(self, event_type: str) -> str:
        return f"{self.subject_prefix}.dlq.{subject_token(event_type)}"

    async def jetstream(self) -> JetStreamContext:
        """The JetStream context, connecting (and creating or updating the stream) on first use."""
        async with self._lock:
            if self._nc is None or self._nc.is_closed or self._js is None:
                import nats

                async def on_error(exc: Exception) -> None:
                    _log.warning("nats_connection_error", error=type(exc).__name__)

                # nats-py's own reconnecting is kept short (its first connect loops on the same budget): a
                # connection it gives up on is opened anew here, and the subscriber resyncs from the outbox
                nc = await nats.connect(
                    self.url,
                    name=f"laura:{os.getpid()}",
                    connect_timeout=CONNECT_TIMEOUT_SECONDS,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=1,
                    error_cb=on_error,
                )
                js = nc.jetstream(timeout=self.publish_timeout_seconds)
                try:
                    await self._ensure_stream(js)
                except BaseException:
                    await nc.close()
                    raise
                self._nc, self._js = nc, js
            return self._js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        """Create the stream when it is missing; an existing one is the operator's (replicas, limits)."""
        from nats.js.api import StorageType, StreamConfig
        from nats.js.errors import NotFoundError

        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[f"{self.subject_prefix}.events.>", f"{self.subject_prefix}.dlq.>"],
                    storage=StorageType.FILE,
                    duplicate_window=self.dedupe_window_seconds,
                    max_age=self.max_age_days * 86400,
                )
            )

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            await nc.close()

    async def publish(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """All of the batch in flight at once (in order on the one connection), then every ack awaited."""
        from nats.js.api import Header

        js = await self.jetstream()
        limit = self._nc.max_payload if self._nc is not None else 1024 * 1024
        pending = []
        for event in events:
            payload = dumps(event.bus_message()).encode()
            if len(payload) > limit // 2:  # the headers and the protocol need room too
                payload = dumps(reference(event)).encode()
            pending.append(
                await js.publish_async(
                    self.events_subject(event.type),
                    payload,
                    stream=self.stream,
                    headers={Header.MSG_ID.value: str(event.position)},
                )
            )
        try:
            async with asyncio.timeout(self.publish_timeout_seconds):
                acks = await asyncio.gather(*pending)
        finally:
            for future in pending:
                future.cancel()
        duplicates = sum(1 for ack in acks if ack.duplicate)
        if duplicates:
            _log.info("nats_duplicates_dropped", count=duplicates)

    async def _subscribe_and_consume(self, sink: Sink, subscribed: asyncio.Event) -> None:
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import DeliverPolicy

        js = await self.jetstream()
        subscription = await js.subscribe(
            f"{self.subject_prefix}.events.>",
            stream=self.stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            idle_heartbeat=self.keepalive_seconds,
        )
        try:
            subscribed.set()
            await sink.resync()
            while True:
                stop_if_cancelled()
                try:
                    message = await subscription.next_msg(timeout=self.keepalive_seconds)
                except NatsTimeout:
                    if self._nc is None or self._nc.is_closed:
                        raise ConnectionError("NATS connection closed") from None
                    continue
                await sink.deliver(json.loads(message.data))
        finally:
            with contextlib.suppress(Exception):  # unsubscribing over a broken connection
                await asyncio.shield(subscription.unsubscribe())
