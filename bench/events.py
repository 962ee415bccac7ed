"""Outbox relay and bus throughput, and commit-to-delivery latency; prints one JSON line.

    python bench/events.py [--backlog 50000] [--duration 10] [--writers 16] [--bus postgres|redis|nats]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres) and, for
`--bus redis`, LAURA_REDIS_URL (default redis://127.0.0.1:6379/0); for `--bus nats`, LAURA_NATS_URL (default
nats://127.0.0.1:4222) with a stream of its own, deleted at the end. Recreates the scratch database
laura_bench_events (migrated to head). Phases, each with the real relay, bus and hub of one API instance
(`EventRuntime`) and one hub subscription that every event is addressed to:

- drain: `backlog` events are committed (500 per transaction) with no relay running, then the runtime
  starts; reports events/s from start until the subscription has received all of them;
- live: `writers` concurrent sessions commit one `publish()` per transaction for `duration` seconds;
  reports transactions/s and the latency from each commit returning to the subscription receiving it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid

from _common import fresh_database, server_url

from laura.core.db import Database
from laura.core.events import EventRuntime, publish
from laura.core.events.bus import Bus, PostgresBus, RedisBus
from laura.core.events.nats_bus import NatsBus

DB_NAME = "laura_bench_events"


def _bus(kind: str, url: str):  # type: ignore[no-untyped-def]
    if kind == "redis":
        from redis.asyncio import Redis

        redis = Redis.from_url(os.environ.get("LAURA_REDIS_URL", "redis://127.0.0.1:6379/0"))
        return RedisBus(redis, f"laura:events:bench:{uuid.uuid4().hex}"), redis
    if kind == "nats":
        token = uuid.uuid4().hex[:12]
        nats_url = os.environ.get("LAURA_NATS_URL", "nats://127.0.0.1:4222")
        return NatsBus(nats_url, stream=f"LAURA_BENCH_{token}", subject_prefix=f"laurabench{token}"), None
    return PostgresBus(url), None


async def _drain(db: Database, bus: Bus, backlog: int) -> dict:
    user = uuid.uuid4()
    for start in range(0, backlog, 500):
        async with db.unit_of_work() as session:
            for n in range(start, min(start + 500, backlog)):
                await publish(session, "bench.drain", {"n": n}, user_ids=[user])
    runtime = EventRuntime(db, bus)
    with runtime.hub.subscribe(str(user), "customer") as subscription:
        started = time.perf_counter()
        await runtime.start()
        for _ in range(backlog):
            await subscription.queue.get()
        elapsed = time.perf_counter() - started
    await runtime.stop()
    return {"events": backlog, "seconds": round(elapsed, 3), "events_per_s": round(backlog / elapsed)}


async def _live(db: Database, bus: Bus, writers: int, duration: float) -> dict:
    user = uuid.uuid4()
    committed: dict[str, float] = {}
    received: dict[str, float] = {}
    runtime = EventRuntime(db, bus)
    await runtime.start()
    stop_at = time.perf_counter() + duration

    async def writer() -> None:
        while time.perf_counter() < stop_at:
            tag = uuid.uuid4().hex
            async with db.unit_of_work() as session:
                await publish(session, "bench.live", {"tag": tag}, user_ids=[user])
            committed[tag] = time.perf_counter()

    with runtime.hub.subscribe(str(user), "customer") as subscription:

        async def reader() -> None:
            while True:
                event = await subscription.queue.get()
                received[event.data["tag"]] = time.perf_counter()

        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer() for _ in range(writers)))
        while len(received) < len(committed):
            await asyncio.sleep(0.01)
        reading.cancel()
    await runtime.stop()
    latencies = sorted(max(0.0, received[i] - committed[i]) * 1000 for i in committed)
    return {
        "transactions": len(committed),
        "tx_per_s": round(len(committed) / duration),
        "latency_ms_p50": round(statistics.median(latencies), 2),
        "latency_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "duplicates_or_missing": len(set(received) ^ set(committed)),
    }


async def main(args: argparse.Namespace) -> dict:
    url = await fresh_database(server_url(), DB_NAME)
    db = Database(url, pool_size=args.writers + 4, max_overflow=8)
    result: dict = {"bench": "events", "bus": args.bus, "writers": args.writers}
    try:
        bus, redis = _bus(args.bus, url)
        result["drain"] = await _drain(db, bus, args.backlog)
        result["live"] = await _live(db, bus, args.writers, args.duration)
        if redis is not None:
            await redis.aclose()
        if isinstance(bus, NatsBus):
            js = await bus.jetstream()
            await js.delete_stream(bus.stream)
            await bus.close()
    finally:
        await db.dispose()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--bus", choices=["postgres", "redis", "nats"], default="postgres")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
