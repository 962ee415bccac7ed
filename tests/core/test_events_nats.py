"""The outbox relay over NATS JetStream, against the real server (skipped where none runs): events are stored
on `<prefix>.events.<type>` with their outbox position as message id, a batch the relay repeats after a crash
is stored once, and a durable consumer dead-letters what it keeps rejecting exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from laura.core.db import Database
from laura.core.events import EventRuntime, publish
from laura.core.events.event import Event
from laura.core.events.nats_bus import NatsBus, subject_token
from laura.core.events.nats_consumer import DurableConsumer
from laura.core.events.relay import Relay
from laura.core.events.runtime import bus_for
from laura.settings import Settings
from tests.events_support import WAIT_SECONDS, background, eventually, outbox_rows, recording
from tests.nats_support import NatsNames, jetstream, nats_names, stored  # noqa: F401


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def publish_committed(db: Database, *types: str, user_ids: Sequence[uuid.UUID] = ()) -> list[int]:
    async with db.unit_of_work() as session:
        for kind in types:
            await publish(session, kind, {"kind": kind}, user_ids=user_ids)
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT id, type FROM outbox WHERE type = ANY(:t)"), {"t": list(types)}
        )
        by_type = {row.type: row.id for row in rows}
    return [by_type[kind] for kind in types]


class CrashingAfterPublish(NatsBus):
    """Publishes the first batch, then fails before the relay marks it: the relay must send it again."""

    crashed = False

    async def publish(self, conn, events) -> None:
        await super().publish(conn, events)
        if not self.crashed:
            self.crashed = True
            raise ConnectionError("relay died between publishing and marking")


async def test_the_relay_stores_each_event_on_its_subject_with_its_position_as_msg_id(
    db, jetstream, nats_names
):
    bus = nats_names.bus()
    try:
        async with (
            recording(bus) as recorder,
            background(Relay(db.url, bus, poll_seconds=0.1).run()),
        ):
            ids = await publish_committed(db, "test.first", "ride.offered", "odd type*")
            await recorder.until_ids(*ids)
    finally:
        await bus.close()

    assert recorder.ids == ids
    messages = await stored(jetstream, nats_names.stream, f"{nats_names.prefix}.events.>")
    rows = {row["id"]: row for row in await outbox_rows(db)}
    events = f"{nats_names.prefix}.events"
    assert [m.subject for m in messages] == [
        f"{events}.test.first",
        f"{events}.ride.offered",
        f"{events}.odd_type_",
    ]
    assert [m.headers["Nats-Msg-Id"] for m in messages] == [str(rows[i]["position"]) for i in ids]
    assert [json.loads(m.data)["id"] for m in messages] == ids
    assert all(row["published_at"] is not None for row in rows.values())


async def test_a_batch_republished_after_a_relay_crash_is_stored_and_delivered_once(
    db, jetstream, nats_names
):
    bus = nats_names.bus(cls=CrashingAfterPublish)
    try:
        async with recording(bus) as recorder:
            ids = await publish_committed(db, "test.once.1", "test.once.2", "test.once.3")
            async with background(Relay(db.url, bus, poll_seconds=0.1).run()):
                await eventually(lambda: bus.crashed)
                await eventually(lambda: _all_published(db))
                [after] = await publish_committed(db, "test.after")
                await recorder.until_ids(after)
    finally:
        await bus.close()

    assert recorder.ids == [*ids, after]
    messages = await stored(jetstream, nats_names.stream, f"{nats_names.prefix}.events.>")
    assert [json.loads(m.data)["id"] for m in messages] == [*ids, after]
    info = await jetstream.stream_info(nats_names.stream)
    assert info.state.messages == 4


async def test_an_instance_whose_nats_connection_closed_catches_up_from_the_outbox(db, jetstream, nats_names):
    bus = nats_names.bus()
    runtime = EventRuntime(db, bus, poll_seconds=0.1)
    await runtime.start()
    user = uuid.uuid4()
    try:
        with runtime.hub.subscribe(str(user), "customer") as subscription:
            [first] = await publish_committed(db, "test.before", user_ids=[user])
            assert (await asyncio.wait_for(subscription.queue.get(), WAIT_SECONDS)).id == first

            await bus._nc.close()  # what nats-py does once it gives up reconnecting
            during = await publish_committed(db, *(f"test.during.{n}" for n in range(5)), user_ids=[user])
            received = [(await asyncio.wait_for(subscription.queue.get(), WAIT_SECONDS)).id for _ in during]
    finally:
        await runtime.stop()

    assert received == during
    assert subscription.queue.empty()


async def _all_published(db: Database) -> bool:
    return all(row["published_at"] is not None for row in await outbox_rows(db))


def bus_event(position: int, kind: str) -> Event:
    return Event.build(
        id=position,
        type=kind,
        data={"n": position},
        user_ids=[],
        roles=[],
        occurred_at=datetime.now(UTC),
        position=position,
    )


async def test_a_rejected_event_is_dead_lettered_once_and_an_accepted_one_is_not_redelivered(
    jetstream, nats_names
):
    bus = nats_names.bus()
    handled: Counter[str] = Counter()

    async def handler(message: dict) -> None:
        handled[message["type"]] += 1
        if message["type"] == "payout.failed":
            raise ValueError("no such account\nat the bank")

    consumer = DurableConsumer(
        bus, "payouts", handler, max_deliveries=3, retry_delay_seconds=0.05, fetch_seconds=0.5
    )
    try:
        await bus.publish(None, [bus_event(1, "payout.requested"), bus_event(2, "payout.failed")])
        async with background(consumer.run()):

            async def settled() -> bool:
                from nats.js.errors import NotFoundError

                try:
                    info = await jetstream.consumer_info(nats_names.stream, "payouts")
                except NotFoundError:  # not created yet
                    return False
                dead = await stored(jetstream, nats_names.stream, f"{nats_names.prefix}.dlq.>")
                return bool(dead) and info.num_pending == 0 and info.num_ack_pending == 0

            await eventually(settled)
            await bus.publish(None, [bus_event(3, "payout.requested")])
            await eventually(lambda: handled["payout.requested"] == 2)
            await eventually(settled)
    finally:
        await bus.close()

    assert handled == {"payout.requested": 2, "payout.failed": 3}
    [dead] = await stored(jetstream, nats_names.stream, f"{nats_names.prefix}.dlq.>")
    assert dead.subject == f"{nats_names.prefix}.dlq.payout.failed"
    assert json.loads(dead.data)["id"] == 2
    assert dead.headers["Laura-Dlq-Reason"] == "ValueError: no such account at the bank"
    assert dead.headers["Laura-Dlq-Deliveries"] == "3"
    assert dead.headers["Laura-Dlq-Consumer"] == "payouts"
    assert dead.headers["Laura-Dlq-Subject"] == f"{nats_names.prefix}.events.payout.failed"
    assert dead.headers["Laura-Dlq-Msg-Id"] == "2"
    info = await jetstream.consumer_info(nats_names.stream, "payouts")
    assert info.num_redelivered == 0 and info.num_ack_pending == 0


def test_the_bus_is_chosen_by_setting_and_redis_needs_its_url(database_url):
    base = Settings(_env_file=None, database_url=database_url)
    nats = bus_for(
        base.model_copy(update={"events_bus": "nats", "nats_stream": "S", "nats_subject_prefix": "p"}), None
    )
    assert isinstance(nats, NatsBus) and (nats.stream, nats.events_subject("a.b")) == ("S", "p.events.a.b")
    assert type(bus_for(base, None)).__name__ == "PostgresBus"
    with pytest.raises(ValueError, match="LAURA_EVENTS_BUS=redis needs LAURA_REDIS_URL"):
        Settings(_env_file=None, events_bus="redis")


@pytest.mark.parametrize(
    ("event_type", "token"), [("ride.offered", "ride.offered"), ("a b>*", "a_b__"), ("x..y.", "x._.y._")]
)
def test_an_event_type_becomes_subject_tokens_without_wildcards(event_type, token):
    assert subject_token(event_type) == token


async def test_the_bus_creates_a_missing_stream_and_leaves_an_operators_one_as_it_is(jetstream, nats_names):
    from nats.js.api import StreamConfig

    bus = nats_names.bus(dedupe_window_seconds=30, max_age_days=2)
    try:
        await bus.jetstream()
        created = (await jetstream.stream_info(nats_names.stream)).config
        assert created.subjects == [f"{nats_names.prefix}.events.>", f"{nats_names.prefix}.dlq.>"]
        assert (created.duplicate_window, created.max_age) == (30, 2 * 86400)
        await bus.close()

        await jetstream.update_stream(
            StreamConfig(name=nats_names.stream, subjects=created.subjects, max_age=3600)
        )
        await bus.jetstream()
        assert (await jetstream.stream_info(nats_names.stream)).config.max_age == 3600
    finally:
        await bus.close()
