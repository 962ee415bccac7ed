"""A durable JetStream consumer for a service beyond the API (payouts, analytics, notifications...).

Its handler gets each bus message (`Event.bus_message()`, or a `ref` for an event too large to carry) at
least once. Returning acks it; raising naks it with a delay that doubles each time, and on the
`max_deliveries`-th failure the message is copied to `<prefix>.dlq.<type>` with why, then terminated, so
one bad event neither blocks the others nor comes back forever. The server itself never gives up
(`max_deliver` unlimited): a consumer that dies mid-handling gets the message again after `ack_wait`, and
the dead letter's own `Nats-Msg-Id` keeps a repeat of that last step from storing it twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

from laura.core.cancellation import stop_if_cancelled
from laura.core.events.nats_bus import NatsBus

if TYPE_CHECKING:
    from nats.aio.msg import Msg

Handler = Callable[[dict[str, Any]], Awaitable[None]]

REASON_LIMIT = 500
"""Characters of the handler's error kept in the dead letter's `Laura-Dlq-Reason` header."""

_log = structlog.get_logger("laura.events.consumer")


class DurableConsumer:
    """`run()` until cancelled; the consumer's position lives on the server under `name`."""

    def __init__(
        self,
        bus: NatsBus,
        name: str,
        handler: Handler,
        *,
        event_types: str = ">",
        max_deliveries: int = 5,
        retry_delay_seconds: float = 1.0,
        ack_wait_seconds: float = 30.0,
        batch: int = 50,
        fetch_seconds: float = 5.0,
    ) -> None:
        self.bus = bus
        self.name = name
        self.handler = handler
        self.event_types = event_types
        self.max_deliveries = max_deliveries
        self.retry_delay_seconds = retry_delay_seconds
        self.ack_wait_seconds = ack_wait_seconds
        self.batch = batch
        self.fetch_seconds = fetch_seconds

    async def run(self) -> None:
        while True:
            try:
                await self._consume()
            except Exception as exc:  # noqa: BLE001 - the consumer outlives any broker failure
                stop_if_cancelled()
                _log.warning("nats_consumer_error", consumer=self.name, error=repr(exc))
            await asyncio.sleep(self.bus.retry_seconds)

    async def _consume(self) -> None:
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import AckPolicy, ConsumerConfig

        js = await self.bus.jetstream()
        subscription = await js.pull_subscribe(
            f"{self.bus.subject_prefix}.events.{self.event_types}",
            durable=self.name,
            stream=self.bus.stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, max_deliver=-1, ack_wait=self.ack_wait_seconds
            ),
        )
        while True:
            stop_if_cancelled()
            try:
                messages = await subscription.fetch(self.batch, timeout=self.fetch_seconds)
            except NatsTimeout:
                continue
            for message in messages:
                await self._handle(message)

    async def _handle(self, message: Msg) -> None:
        try:
            await self.handler(json.loads(message.data))
        except Exception as exc:  # noqa: BLE001 - any failure of the handler is a rejection
            stop_if_cancelled()
            delivered = message.metadata.num_delivered
            if delivered < self.max_deliveries:
                await message.nak(delay=self.retry_delay_seconds * 2 ** (delivered - 1))
                return
            await self._dead_letter(message, exc, delivered)
            await message.term()
            return
        await message.ack()

    async def _dead_letter(self, message: Msg, error: Exception, delivered: int) -> None:
        from nats.js.api import Header

        sequence = message.metadata.sequence.stream
        event_type = message.subject.removeprefix(f"{self.bus.subject_prefix}.events.")
        reason = f"{type(error).__name__}: {error}"[:REASON_LIMIT]
        js = await self.bus.jetstream()
        await js.publish(
            self.bus.dead_letter_subject(event_type),
            message.data,
            stream=self.bus.stream,
            headers={
                Header.MSG_ID.value: f"dlq:{self.name}:{sequence}",
                "Laura-Dlq-Consumer": self.name,
                "Laura-Dlq-Reason": reason.replace("\r", " ").replace("\n", " "),
                "Laura-Dlq-Deliveries": str(delivered),
                "Laura-Dlq-Subject": message.subject,
                "Laura-Dlq-Stream-Sequence": str(sequence),
                "Laura-Dlq-Msg-Id": (message.headers or {}).get(Header.MSG_ID.value, ""),
            },
        )
        _log.warning("nats_dead_lettered", consumer=self.name, subject=message.subject, deliveries=delivered)
