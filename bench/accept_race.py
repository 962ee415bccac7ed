"""The ride accept race over real HTTP: rounds of many drivers accepting one ride at once; one JSON line.

    python bench/accept_race.py [--rounds 100] [--drivers 200] [--instances 2] [--workers 1] [--redis]
        [--client raw|httpx]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres); with --redis,
LAURA_REDIS_URL (default redis://127.0.0.1:6379/0) for the accept lock and the GEO mirror. Recreates the
scratch database laura_bench_accept at head with `drivers` approved, online drivers around Av. Paulista
and one passenger (SQL, all with one password hash), and starts the real app as `instances` uvicorn
servers, each on its own port with `workers` processes (rate limits off, one batch offering each ride to
every driver, a pool of `POOL_SIZE` connections per process). The drivers' connections are dealt to the
instances in turn, as a load balancer would: uvicorn workers sharing one listening socket get whatever
connections the kernel hands each accept loop (uneven when connections open during a burst), which
`server_cpu_share_by_worker` shows for `--instances 1 --workers 2`.

Each round the passenger requests a ride (offered to all drivers), then every driver posts
`POST /rides/{id}/accept` with its own Idempotency-Key at the same moment, each on its own keep-alive
HTTP/1.1 connection; the passenger then cancels (free, within the grace window) so the winner is free for
the next round. Reported: winners per round (must be exactly 1 every round), losers' answers (a transport
error counts as status 0), and the accept latency seen by the client, from writing the request to having
read the whole response (p50/p99 over every request of every round). For scale, the same drivers then
read `GET /drivers/me` at the same concurrency (5 rounds): the cost of any authenticated request on the
same server and machine. Also reported: the CPU the server processes and the database's backends spent
during the bursts, per request (psutil), which the machine's other load does not inflate the way it
inflates latency. The server's own log goes to a temporary file.

The client shares the machine's two cores with the server and PostgreSQL, so its CPU is taken from them.
The timed requests therefore go through `RawHttp` (pre-built request bytes over asyncio streams, a
minimal response parser) on uvloop; `--client httpx` times them with httpx instead (one client per
instance; several times the client CPU per request). Logins, ride requests and cancels use httpx either
way (not timed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import psutil
import uvloop
from _common import DRIVER_COLUMNS, free_ports, fresh_database, server_url, start_app, wait_ready

from laura.core.security import hash_password
from laura.mobility.matching.geo import cell_of
from laura.mobility.matching.service import h3_int

DB_NAME = "laura_bench_accept"
NAMESPACE = "bench-accept"
PASSWORD = "bench-accept-2026"
PAULISTA = (-23.5614, -46.6559)
DROPOFF = (-23.5874, -46.6576)
POOL_SIZE = 20
"""Connections per server process, all kept open: an overflow connection is closed as soon as it is
returned, so a burst above the pool's size keeps opening connections (a TLS attempt, a new backend, every
statement prepared again)."""


async def _prepare(server: str, drivers: int) -> tuple[str, list[str], str]:
    """A fresh database at head with the drivers (approved, online, located) and one passenger."""
    url = await fresh_database(server, DB_NAME)
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    emails = [f"driver-{n}@bench.example" for n in range(drivers)]
    users = [uuid.uuid4() for _ in emails]
    ids = [uuid.uuid4() for _ in emails]
    conn = await asyncpg.connect(url)
    try:
        passenger_user = uuid.uuid4()
        await conn.copy_records_to_table(
            "users",
            records=[(u, e, password_hash, "Bench Driver", "driver") for u, e in zip(users, emails)]
            + [(passenger_user, "passenger@bench.example", password_hash, "Bench Rider", "passenger")],
            columns=["id", "email", "password_hash", "name", "role"],
        )
        await conn.execute(
            "INSERT INTO passengers (id, user_id, full_name) VALUES ($1, $2, 'Bench Rider')",
            uuid.uuid4(),
            passenger_user,
        )
        await conn.copy_records_to_table(
            "drivers",
            records=[
                (
                    d,
                    u,
                    "Bench Driver",
                    f"{n:011d}",
                    f"{n:011d}",
                    "bench@bench.example",
                    "EMAIL",
                    "APPROVED",
                    True,
                )
                for n, (d, u) in enumerate(zip(ids, users))
            ],
            columns=DRIVER_COLUMNS,
        )
        await conn.copy_records_to_table(
            "vehicles",
            records=[
                (uuid.uuid4(), d, f"BEN{n:04d}", "Toyota", "Corolla", now.year - 1, "standard")
                for n, d in enumerate(ids)
            ],
            columns=["id", "driver_id", "license_plate", "brand", "model", "year", "category"],
        )
        positions = [
            (PAULISTA[0] + (n % 20) * 0.0002, PAULISTA[1] + (n // 20) * 0.0002) for n in range(drivers)
        ]
        await conn.copy_records_to_table(
            "driver_locations",
            records=[
                (d, "standard", h3_int(cell_of(*p)), p[0], p[1], now, True) for d, p in zip(ids, positions)
            ],
            columns=["driver_id", "category", "h3_cell", "lat", "lon", "recorded_at", "available"],
        )
    finally:
        await conn.close()
    return url, emails, "passenger@bench.example"


async def _mirror(url: str, redis_url: str) -> None:
    """Fill the Redis GEO mirror from the rows loaded by SQL (what location reports do one by one)."""
    from redis.asyncio import Redis

    from laura.core.db import Database
    from laura.mobility.matching.geo_index import RedisGeoIndex
    from laura.mobility.matching.service import rebuild_geo_index

    db = Database(url, pool_size=1, max_overflow=0)
    redis = Redis.from_url(redis_url)
    try:
        async with db.sessionmaker() as session:
            await rebuild_geo_index(session, RedisGeoIndex(redis, NAMESPACE))
    finally:
        await redis.aclose()
        await db.dispose()


def _server(
    url: str, port: int, workers: int, drivers: int, redis_url: str | None, data_dir: str, log: IO[str]
) -> subprocess.Popen:
    env = {
        "LAURA_SECRET_KEY": "YmVuY2gtYWNjZXB0LXNlY3JldC1rZXktMzItYnl0ZXM=",
        "LAURA_RIDE_OFFER_BATCH_SIZE": str(drivers),
        "LAURA_RIDE_OFFER_TTL_SECONDS": "3600",
        "LAURA_MOBILITY_LOCATION_MAX_AGE_SECONDS": "86400",
        "LAURA_MOBILITY_REDIS_NAMESPACE": NAMESPACE,
        "LAURA_DB_POOL_SIZE": str(POOL_SIZE),
        "LAURA_DB_MAX_OVERFLOW": "0",
        # the bench's one passenger cancels every round: the anti-fraud rule would suspend them after 20
        "LAURA_FRAUD_CANCELLATIONS_TO_FLAG": "1000000",
        "LAURA_FRAUD_CANCELLATIONS_TO_SUSPEND": "1000000",
    }
    return start_app(
        url,
        port,
        data_dir=data_dir,
        workers=workers,
        env=env,
        redis_url=redis_url,
        uvicorn_args=("--timeout-keep-alive", "120"),
        stdout=log,
        stderr=log,
    )


async def _tokens(http: httpx.AsyncClient, emails: list[str]) -> list[dict]:
    gate = asyncio.Semaphore(8)

    async def one(email: str) -> dict:
        async with gate:
            answer = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
            answer.raise_for_status()
            return {"Authorization": f"Bearer {answer.json()['accessToken']}"}

    return list(await asyncio.gather(*(one(e) for e in emails)))


class RawHttp:
    """One keep-alive HTTP/1.1 connection that sends pre-built requests and reads `Content-Length` answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> RawHttp:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    @staticmethod
    def build(method: str, path: str, headers: dict[str, str]) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 0"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """The status and body of one exchange (the server always sends Content-Length here)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class HttpxSender:
    """The same exchanges through one shared httpx client (the heavier client, for comparison)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def send(self, request: tuple[str, str, dict[str, str]]) -> tuple[int, bytes]:
        method, path, headers = request
        answer = await self.http.request(method, path, headers=headers)
        return answer.status_code, answer.content


async def _timed(sender, request) -> tuple[int, bytes, float]:  # type: ignore[no-untyped-def]
    """One exchange timed from the write of the request to the last byte of the answer."""
    started = time.perf_counter()
    try:
        status, body = await sender.send(request)
    except (OSError, asyncio.IncompleteReadError, httpx.TransportError) as exc:
        return 0, type(exc).__name__.encode(), time.perf_counter() - started
    return status, body, time.perf_counter() - started


class CpuMeter:
    """CPU seconds of the server's processes (per uvicorn worker) and of the bench database's backends,
    summed over the measured windows only: what one request costs, whatever else runs on the machine."""

    def __init__(self, server_pids: list[int], conn: asyncpg.Connection) -> None:
        self.pids, self.conn = server_pids, conn
        self.roots = [psutil.Process(pid) for pid in server_pids]
        self.workers: Counter[int] = Counter()
        self.db = 0.0

    async def _sample(self) -> tuple[dict[int, float], dict[int, float]]:
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", DB_NAME
        )
        server = [p for root in self.roots for p in (root, *root.children(recursive=True))]
        return _cpu_of(server), _cpu_of(psutil.Process(r["pid"]) for r in rows if psutil.pid_exists(r["pid"]))

    async def measure(self, work):  # type: ignore[no-untyped-def]
        """Await `work` and add the CPU it cost to the totals."""
        workers, db = await self._sample()
        result = await work
        workers_after, db_after = await self._sample()
        self.workers.update({pid: cpu - workers.get(pid, 0.0) for pid, cpu in workers_after.items()})
        self.db += sum(cpu - db.get(pid, 0.0) for pid, cpu in db_after.items())
        return result

    def figures(self, requests: int) -> dict:
        server = sum(self.workers.values())
        return {
            "server_cpu_ms_per_request": round(server * 1000 / requests, 3),
            "db_cpu_ms_per_request": round(self.db * 1000 / requests, 3),
            "server_cpu_share_by_worker": sorted(
                (round(v / server, 2) for v in self.workers.values()), reverse=True
            )
            if server
            else [],
        }


def _cpu_of(processes) -> dict[int, float]:  # type: ignore[no-untyped-def]
    found = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        found[process.pid] = times.user + times.system
    return found


def _percentile(ordered: list[float], share: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 2)


async def run(args: argparse.Namespace) -> dict:
    server = server_url()
    redis_url = os.environ.get("LAURA_REDIS_URL", "redis://127.0.0.1:6379/0") if args.redis else None
    url, emails, rider_email = await _prepare(server, args.drivers)
    if redis_url:
        await _mirror(url, redis_url)
    ports = free_ports(args.instances)
    # the servers' own log: a local file opened once, before any timing starts
    with tempfile.TemporaryDirectory() as data_dir, open(Path(data_dir) / "server.log", "w") as log:  # noqa: ASYNC230
        processes = [_server(url, p, args.workers, args.drivers, redis_url, data_dir, log) for p in ports]
        try:
            for port, process in zip(ports, processes):
                await wait_ready(f"http://127.0.0.1:{port}", process, path="/ready", poll=0.1)
            async with AsyncExitStack() as stack:
                clients = [
                    await stack.enter_async_context(_client(port, args.drivers // len(ports) + 10))
                    for port in ports
                ]
                drivers = await _tokens(clients[0], emails)
                (rider,) = await _tokens(clients[0], [rider_email])
                senders = await _senders(args.client, clients, ports, len(drivers))
                stack.callback(lambda: [s.close() for s in senders if isinstance(s, RawHttp)])
                conn = await asyncpg.connect(url)
                stack.push_async_callback(conn.close)
                meter = CpuMeter([p.pid for p in processes], conn)
                return await _rounds(clients[0], senders, meter, args, drivers, rider)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)


def _client(port: int, connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60)


async def _senders(kind: str, clients: list[httpx.AsyncClient], ports: list[int], count: int) -> list:
    """One connection per driver, opened before the first round, the drivers dealt to the instances in
    turn (what a load balancer does)."""
    if kind == "httpx":
        return [HttpxSender(clients[n % len(clients)]) for n in range(count)]
    return list(await asyncio.gather(*(RawHttp.open(ports[n % len(ports)]) for n in range(count))))


def _request(sender, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return RawHttp.build(method, path, headers) if isinstance(sender, RawHttp) else (method, path, headers)


async def _rounds(
    http: httpx.AsyncClient,
    senders: list,
    meter: CpuMeter,
    args: argparse.Namespace,
    drivers: list[dict],
    rider: dict,
) -> dict:
    trip = {
        "pickup": {"lat": PAULISTA[0], "lon": PAULISTA[1]},
        "dropoff": {"lat": DROPOFF[0], "lon": DROPOFF[1]},
        "category": "standard",
    }

    winners, latencies, errors, offered, bursts = [], [], Counter(), [], []
    started = time.perf_counter()
    for _ in range(args.rounds):
        created = await http.post("/rides", json=trip, headers=rider)
        created.raise_for_status()
        ride = created.json()
        offered.append(ride["status"] == "OFFERED")
        path = f"/rides/{ride['id']}/accept"
        requests = [
            _request(s, "POST", path, {**h, "Idempotency-Key": uuid.uuid4().hex})
            for s, h in zip(senders, drivers)
        ]
        burst = time.perf_counter()
        answers = await meter.measure(asyncio.gather(*(_timed(s, r) for s, r in zip(senders, requests))))
        bursts.append(time.perf_counter() - burst)
        winners.append(sum(1 for status, _, _ in answers if status == 200))
        errors.update(_error(status, body) for status, body, _ in answers if status != 200)
        latencies.extend(elapsed for _, _, elapsed in answers)
        (
            await http.post(f"/rides/{ride['id']}/cancel", json={"reason": "bench"}, headers=rider)
        ).raise_for_status()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    accept_cpu = meter.figures(len(latencies))
    baseline_meter = CpuMeter(meter.pids, meter.conn)
    baseline = sorted(await _baseline(senders, baseline_meter, drivers))
    return {
        "benchmark": "accept_race",
        "rounds": args.rounds,
        "concurrent_accepts": len(drivers),
        "server_instances": args.instances,
        "workers_per_instance": args.workers,
        "client": args.client,
        "redis": args.redis,
        "every_ride_offered_to_all": all(offered),
        "winners_per_round": dict(Counter(winners)),
        "exactly_one_winner_every_round": all(w == 1 for w in winners),
        "loser_answers": dict(errors),
        "accept_latency_ms": {
            "p50": _percentile(ordered, 0.5),
            "p90": _percentile(ordered, 0.9),
            "p99": _percentile(ordered, 0.99),
            "max": round(ordered[-1] * 1000, 2),
            "mean": round(statistics.mean(ordered) * 1000, 2),
        },
        "accepts_per_second": round(len(latencies) / elapsed, 1),
        "accepts_per_second_in_bursts": round(len(latencies) / sum(bursts), 1),
        "burst_ms": {"p50": _percentile(sorted(bursts), 0.5), "max": round(max(bursts) * 1000, 2)},
        "accept_cpu": accept_cpu,
        "baseline_get_drivers_me_ms": {"p50": _percentile(baseline, 0.5), "p99": _percentile(baseline, 0.99)},
        "baseline_cpu": baseline_meter.figures(len(baseline)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "target_p99_ms": 100,
    }


def _error(status: int, body: bytes) -> str:
    """`status ERROR_CODE` of a refused answer (a transport error's class name for status 0)."""
    if status == 0:
        return f"0 {body.decode()}"
    try:
        return f"{status} {json.loads(body).get('error')}"
    except ValueError:
        return f"{status} ?"


async def _baseline(senders: list, meter: CpuMeter, drivers: list[dict], rounds: int = 5) -> list[float]:
    """For scale: the same drivers at the same concurrency reading `GET /drivers/me` (authentication,
    one query, the framework and the machine) - what any authenticated request costs here."""
    requests = [_request(s, "GET", "/drivers/me", h) for s, h in zip(senders, drivers)]
    latencies: list[float] = []
    for _ in range(rounds):
        answers = await meter.measure(asyncio.gather(*(_timed(s, r) for s, r in zip(senders, requests))))
        latencies.extend(elapsed for _, _, elapsed in answers)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--drivers", type=int, default=200)
    parser.add_argument("--instances", type=int, default=2, help="uvicorn servers, each on its own port")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes per instance")
    parser.add_argument("--redis", action="store_true", help="use Redis for the accept lock and GEO mirror")
    parser.add_argument(
        "--client", choices=("raw", "httpx"), default="raw", help="the client of the timed requests"
    )
    print(json.dumps(uvloop.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
