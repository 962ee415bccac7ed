"""A simulated peak hour of a city on the whole platform, compressed into a short run; one JSON line.

    python bench/mixed_day.py [--seconds 60] [--scale 0.05] [--customers 200] [--cards 400] [--seed 1]
                              [--health-seconds 5] [--health-lanes 32]

The mix and its arithmetic (where the proportions come from, and how the machines for a 10,000-ride day
are worked out from the run's CPU) are in bench/_mixed_mix.py's docstring; what each arrival does over
the API is in bench/_mixed_flows.py.

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres) and Redis at
LAURA_BENCH_REDIS_URL (default redis://127.0.0.1:6379/8) when it answers (the events between processes
and the drivers' geo index then go through it). Recreates the scratch database laura_bench_mixed_day at head
with drivers, passengers (bench/_ride_flow.py), funded customers and card holders (bench/_bank_people.py),
and starts, each in its own process: the PSP sandbox, two API instances (uvicorn, one process each, rate
limits off) and one `laura worker`. The load generator (httpx in this process) sends each request to the
next instance in turn, as a round-robin balancer would; the sandbox's webhook goes to the first instance.

Untimed first: everyone logs in and each driver reports their position once (going online). Then the hour's
arrivals start at random moments of `--seconds`; the run ends when every arrival is done and the database
shows the follow-ups settled (rides PAID, Pix sends and deposits applied), at most SETTLE_S later. Then
`GET /health` is hammered by the same load generator at `--health-lanes` for `--health-seconds` (its
ceiling: what the client and the instances can do at all), and `laura ledger verify` runs.

Rates are over the whole run (the arrivals' `--seconds` and the settling after them); `offered_requests_per_s`
is the arrivals' own rate. The machines estimate rests on CPU seconds, not on latency or wall time, so a
busy machine skews it less than it skews the latencies.

The load generator shares the machine's cores with everything it measures, and on a shared machine the
other tenants' load inflates latencies: `load_average_1m` before and after is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _mixed_flows as flows
import _mixed_mix as mix
import asyncpg
import httpx
import uvloop
from _bank_people import CARD_MASTER_KEY, seed_cards, seed_customers
from _common import ROOT, free_port, fresh_database, server_url, start_app, wait_ready
from _meter import CpuMeter
from _mixed_client import RoundRobin
from _pix import PSP_CLIENT, psp_env, sandbox_token, start_sandbox
from _platform import start_worker, wait_for_leader
from _ride_flow import PASSWORD, RIDE_SETTINGS, bearer, login_all, seed_people

from laura.core.observability import configure_logging
from laura.pix.webhook_setup import register_webhook
from laura.settings import Settings

DB_NAME = "laura_bench_mixed_day"
SECRET = "bench-mixed-day-webhook-secret"
PIX_KEY = "pix@laura.example"
REDIS_NAMESPACE = "bench-mixed-day"
SETTLE_S = 120
"""The longest the run waits after the last arrival for the PSP's webhooks and the jobs to settle."""
_PLATFORM = ("api1", "api2", "worker", "db")
"""The processes whose CPU the platform's bill counts (the PSP and the client are the outside world)."""


async def _redis_url() -> str | None:
    """LAURA_BENCH_REDIS_URL (or DB 8 on the local server) when it answers a PING; its keys of the bench's
    namespace cleared."""
    import redis.asyncio as redis

    url = os.environ.get("LAURA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    client = redis.from_url(url)
    try:
        await client.ping()
        async for key in client.scan_iter(match=f"*{REDIS_NAMESPACE}*"):
            await client.delete(key)
    except (redis.RedisError, OSError):
        return None
    finally:
        await client.aclose()
    return url


def _env(psp_url: str) -> dict[str, str]:
    return {
        **psp_env(psp_url, PIX_KEY, SECRET),
        **RIDE_SETTINGS,
        "LAURA_SECRET_KEY": base64.urlsafe_b64encode(CARD_MASTER_KEY).decode(),
        "LAURA_CARD_NETWORK_API_KEYS": flows.CARD_API_KEY,
        "LAURA_MOBILITY_REDIS_NAMESPACE": REDIS_NAMESPACE,
        "LAURA_DB_POOL_SIZE": "8",
        "LAURA_DB_MAX_OVERFLOW": "8",
        "LAURA_WORKER_CONCURRENCY": "4",
    }


async def _start(url: str, data_dir: str, log, processes: dict) -> tuple[list[str], str, str | None]:  # type: ignore[no-untyped-def]
    """The sandbox, API instance 1 (whose relay is made to lead), instance 2 and the worker; the sandbox's
    webhook registered at instance 1. Returns the instances' bases, the sandbox's, and the Redis used."""
    redis_url = await _redis_url()
    psp_port, ports = free_port(), [free_port(), free_port()]
    psp_url, bases = f"http://127.0.0.1:{psp_port}", [f"http://127.0.0.1:{p}" for p in ports]
    env = _env(psp_url)
    processes["psp"] = start_sandbox(psp_port)
    for n, port in enumerate(ports, 1):
        processes[f"api{n}"] = start_app(
            url, port, data_dir=data_dir, workers=1, env=env, redis_url=redis_url,
            uvicorn_args=("--loop", "uvloop", "--http", "httptools"), stdout=log, stderr=log,
        )  # fmt: skip
        await wait_ready(bases[n - 1], processes[f"api{n}"], path="/ready")
        if n == 1:
            await wait_for_leader(url, DB_NAME, processes, "api1")
    processes["worker"] = start_worker(url, data_dir, env, redis_url, log)
    settings = Settings(database_url=url, data_dir=Path(data_dir), psp_base_url=psp_url, psp_client_id=PSP_CLIENT[0],
                        psp_client_secret=PSP_CLIENT[1], psp_pix_key=PIX_KEY, psp_webhook_secret=SECRET)  # fmt: skip
    await register_webhook(settings, base_url=bases[0])
    return bases, psp_url, redis_url


async def _city(args, url: str, bases: list[str], psp_url: str, processes: dict, pool) -> flows.City:  # type: ignore[no-untyped-def]
    """Everyone logged in (through instance 1) and every driver online where they stand."""
    counts = mix.peak_hour(args.scale)
    compression = mix.Compression(args.seconds)
    pairs = max(16, round(2 * compression.concurrent_rides(counts["ride"])) + 8)
    people = await seed_people(url, pairs)
    customers = await seed_customers(url, args.customers, PASSWORD)
    cards = await seed_cards(url, max(1, args.cards // 10), 10)
    api, psp = RoundRobin(bases), RoundRobin([psp_url])
    async with httpx.AsyncClient(base_url=psp_url) as http:
        await sandbox_token(http, processes["psp"])  # the sandbox is up before anyone pays
    drivers = await login_all(api.clients[0], people.driver_emails)
    riders = await login_all(api.clients[0], people.passenger_emails)
    customer_tokens = await login_all(api.clients[0], [email for _, email in customers])
    city = flows.City(
        api=api, psp=psp, pool=pool, compression=compression,
        drivers={d: bearer(t) for d, t in zip(people.driver_ids, drivers)},
        spots=dict(zip(people.driver_ids, people.spots)),
        customers=[(u, bearer(t)) for (u, _), t in zip(customers, customer_tokens)],
        cards=cards, rng=random.Random(args.seed),
    )  # fmt: skip
    await asyncio.gather(*(flows.report(city, d, 1, 0) for d in people.driver_ids))
    for driver in people.driver_ids:
        city.idle_drivers.put_nowait(driver)
    for token in riders:
        city.idle_riders.put_nowait(bearer(token))
    api.samples.clear()
    return city


async def _day(city: flows.City, arrivals: list[tuple[float, str]]) -> None:
    """Every arrival started at its moment; returns when the last one is done."""
    started = time.perf_counter()
    tasks = []
    for at, kind in arrivals:
        await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
        tasks.append(asyncio.create_task(flows.FLOWS[kind](city)))
    for failed in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(failed, BaseException):
            city.outcomes[f"crashed:{type(failed).__name__}"] += 1


_OUTCOMES = {
    "rides_paid": "SELECT count(*) FROM rides WHERE status = 'PAID'",
    "rides_completed_unpaid": "SELECT count(*) FROM rides WHERE status = 'COMPLETED'",
    "pix_out_pending": "SELECT count(*) FROM transfers WHERE type = 'PIX' AND status = 'PENDING'",
    "pix_out_completed": "SELECT count(*) FROM transfers WHERE type = 'PIX' AND status = 'COMPLETED'",
    "pix_received_applied": "SELECT count(*) FROM financial_events WHERE kind = 'pix.received' AND status = 'applied'",
    "pix_received_not_applied": "SELECT count(*) FROM financial_events WHERE kind = 'pix.received' AND status <> 'applied'",
    "p2p_completed": "SELECT count(*) FROM transfers WHERE type = 'P2P' AND status = 'COMPLETED'",
    "boletos_paid": "SELECT count(*) FROM bill_payments WHERE status = 'COMPLETED'",
    "card_transactions": "SELECT count(*) FROM card_transactions",
}  # fmt: skip


async def _outcomes(pool: asyncpg.Pool) -> dict[str, int]:
    return {name: int(await pool.fetchval(sql)) for name, sql in _OUTCOMES.items()}


async def _settle(pool: asyncpg.Pool, city: flows.City) -> dict[str, int | bool]:
    """Poll until the paid rides, the Pix sends and the deposits paid at the PSP are all applied."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        found = await _outcomes(pool)
        paid_in = city.outcomes["pix_in_paid_at_psp"] + city.outcomes["ride_paid_at_psp"]
        settled = (
            found["rides_paid"] >= city.outcomes["ride_paid_at_psp"]
            and found["pix_out_pending"] == 0
            and found["pix_received_applied"] + found["pix_received_not_applied"] >= paid_in
        )
        if settled or time.monotonic() > deadline:
            return {**found, "settled": settled}
        await asyncio.sleep(0.5)


def _ledger_verify(url: str, data_dir: str) -> dict:
    """`laura ledger verify` on the bench's database: its exit status and its last line."""
    env = {**os.environ, "LAURA_DATABASE_URL": url, "LAURA_DATA_DIR": data_dir, "COLUMNS": "200"}
    command = [sys.executable, "-m", "laura", "ledger", "verify"]
    run = subprocess.run(
        command, check=False, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=300
    )
    lines = run.stderr.strip().splitlines()
    return {"ok": run.returncode == 0, "said": lines[-1] if lines else ""}


async def _run(args: argparse.Namespace, url: str, data_dir: str, log) -> dict:  # type: ignore[no-untyped-def]
    processes: dict = {}
    pool = await asyncpg.create_pool(url, min_size=1, max_size=8)
    try:
        bases, psp_url, redis_url = await _start(url, data_dir, log, processes)
        city = await _city(args, url, bases, psp_url, processes, pool)
        counts = mix.peak_hour(args.scale)
        arrivals = mix.schedule(counts, args.seconds, random.Random(args.seed))
        meter = CpuMeter({n: processes[n].pid for n in ("api1", "api2", "worker", "psp")}, pool, DB_NAME)
        load_before = round(os.getloadavg()[0], 2)

        async def whole_run() -> tuple[float, dict]:
            started = time.perf_counter()
            await _day(city, arrivals)
            settled = await _settle(pool, city)
            return time.perf_counter() - started, settled

        wall, settled = await meter.measure(whole_run())
        load_after = round(os.getloadavg()[0], 2)
        health = RoundRobin(bases, connections=args.health_lanes)
        health_wall = await health.hammer("GET /health", args.health_lanes, args.health_seconds)
        await asyncio.gather(city.api.aclose(), city.psp.aclose(), health.aclose())
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=30)
        await pool.close()
    report = _report(args, counts, city, meter, wall, settled, health, health_wall, redis_url)
    verified = _ledger_verify(url, data_dir)
    errors = sum(
        sum(r["errors"].values()) for r in [*report["routes"].values(), *report["psp_routes"].values()]
    )
    return report | {
        "load_average_1m_before": load_before,
        "load_average_1m_after": load_after,
        "ledger_verify": verified,
        "ok": verified["ok"]
        and bool(settled["settled"])
        and report["rides_paid"] == counts["ride"]
        and not errors,
    }


def _report(args, counts, city, meter, wall, settled, health, health_wall, redis_url) -> dict:  # type: ignore[no-untyped-def]
    routes = mix.route_figures(city.api.samples, wall)
    requests = sum(r["requests"] for r in routes.values())
    cpu = dict(meter.totals)
    platform_cpu_s = sum(cpu.get(name, 0.0) for name in _PLATFORM)
    rides = settled["rides_paid"]
    ceiling = mix.route_figures(health.samples, health_wall)["GET /health"]
    return {
        "bench": "mixed_day",
        "seconds": args.seconds,
        "scale": args.scale,
        "compression": round(mix.Compression(args.seconds).factor, 1),
        "arrivals": counts,
        "instances": 2,
        "workers": 1,
        "redis": redis_url is not None,
        "cpus": os.cpu_count(),
        "wall_s": round(wall, 1),
        "requests": requests,
        "requests_per_s": round(requests / wall, 1),
        "offered_requests_per_s": round(requests / args.seconds, 1),
        "routes": routes,
        "routes_missing_p99_500ms": mix.slow_routes(routes),
        "psp_routes": mix.route_figures(city.psp.samples, wall),
        "outcomes": dict(sorted(city.outcomes.items())),
        "database": settled,
        "rides_completed": city.outcomes["ride_paid_at_psp"] + city.outcomes["ride_completed_without_charge"],
        "rides_paid": rides,
        "rides_paid_per_s": round(rides / wall, 2),
        "cpu_s": {name: round(seconds, 2) for name, seconds in sorted(cpu.items())},
        "platform_cpu_busy_share": round(platform_cpu_s / (wall * (os.cpu_count() or 1)), 3),
        "machines_for_the_day": mix.machines_needed(platform_cpu_s / max(1, rides), os.cpu_count() or 1),
        "health_ceiling": {
            "requests_per_s": ceiling["requests_per_s"],
            "p50_ms": ceiling["p50_ms"],
            "p99_ms": ceiling["p99_ms"],
            "errors": ceiling["errors"],
            "lanes": args.health_lanes,
        },
        "mix_over_health_ceiling": round(requests / wall / ceiling["requests_per_s"], 3),
    }


async def main(args: argparse.Namespace) -> dict:
    configure_logging("WARNING")  # stdout carries the one JSON line
    url = await fresh_database(server_url(), DB_NAME)
    # the processes' own logs go to a local file opened once, before any timing starts
    with tempfile.TemporaryDirectory() as data_dir, open(Path(data_dir) / "server.log", "w") as log:  # noqa: ASYNC230
        try:
            return await _run(args, url, data_dir, log)
        except Exception:
            log.flush()
            sys.stderr.write((Path(data_dir) / "server.log").read_text()[-4000:])
            raise


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="wall seconds the simulated hour lasts")
    parser.add_argument("--scale", type=float, default=0.05, help="share of the 10,000-ride city's peak hour")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--cards", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--health-seconds", type=float, default=5)
    parser.add_argument("--health-lanes", type=int, default=32)
    print(json.dumps(uvloop.run(main(parser.parse_args()))))
