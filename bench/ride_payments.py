"""Rides paid end to end over the real platform (complete -> charge job -> the sandbox pays -> webhook ->
PAID), and the time from the payment to `payment.confirmed` on the passenger's WebSocket; one JSON line.

    python bench/ride_payments.py [--pairs 32] [--rounds 8] [--lanes 8] [--workers 2] [--job-concurrency 4]
                                  [--intake 1000] [--relay-leader server|worker] [--redis]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres); with --redis,
LAURA_REDIS_URL (default redis://127.0.0.1:6379/0) carries the events between processes. Recreates the
scratch database laura_bench_ride_payments at head with `pairs` drivers and passengers (SQL), and starts, each
in its own process as `laura up` does: the PSP sandbox, the app (uvicorn, `workers` processes, rate limits off,
`LAURA_PIX_WEBHOOK_CONFIRM=psp` as by default) and one `laura worker`; the one named by `--relay-leader`
starts first, and the other once its outbox relay holds the leader lock (bench/_platform.py says why). The sandbox's webhook for our Pix key
is registered at the app, the way `laura up` does it, so every payment comes back as the PSP's own webhook.
Every passenger keeps a WebSocket open on `/ws`.

Each round takes one ride per passenger to IN_PROGRESS over HTTP (untimed; the pickups rotate so that no
passenger rides twice with one driver), then `lanes` concurrent passengers' phones go through the payment,
each ride: the driver's `POST /rides/{id}/complete`; the charge job creates the charge and
`payment.intent.created` reaches the passenger's socket; the passenger's app reads `GET /rides/{id}/payment`
for the charge and pays it (`POST /sandbox/cob/{txid}/pay`, the payer's bank); the sandbox posts the
webhook, the app confirms the Pix with the sandbox and applies it, and `payment.confirmed` reaches the
passenger's socket. Reported: rides paid per second over the rounds' timed parts, payment-to-confirmed and
complete-to-confirmed latencies, the payment-to-confirmed time split at the database's clock (when the
intake's statement ran, when the relay published the event), and CPU per ride of each process.

In the same run, on the same server, for scale: the webhook intake alone (`intake` charges of the bench's own
purpose paid at the sandbox under a key with no webhook, their notifications posted by wrk at `lanes`
connections, as bench/webhooks.py does) and `GET /health` at the same concurrency. Afterwards SQL checks
that every ride was paid and split exactly once and the books balance.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import _wrk as wrk
import asyncpg
import httpx
import uvloop
from _common import free_port, fresh_database, server_url, start_app, wait_ready
from _meter import CpuMeter
from _pix import (
    BENCH_PURPOSE,
    PSP_CLIENT,
    add_bench_purpose,
    add_charges,
    deliveries,
    new_txid,
    paid_at_psp,
    psp_env,
)
from _pix import start_sandbox as start_psp
from _platform import relay_leader, start_worker, wait_for_leader
from _ride_flow import (
    RIDE_SETTINGS,
    People,
    ReadyRide,
    Sockets,
    bearer,
    login_all,
    ride_in_progress,
    seed_people,
)

from laura.core.observability import configure_logging
from laura.pix.webhook_setup import register_webhook
from laura.settings import Settings

DB_NAME = "laura_bench_ride_payments"
SECRET = secrets.token_urlsafe(32)
PIX_KEY = "pix@laura.example"
INTAKE_KEY = "intake@bench.example"
"""The intake-alone charges' key: no webhook is registered for it, so only wrk posts their notifications."""
HOOK_PATH = f"/webhooks/efi/pix?hmac={SECRET}&ignorar=/pix"
TARGET_P99_MS = 200


def _env(url: str, data_dir: str, psp_url: str, args: argparse.Namespace) -> dict[str, str]:
    pool = str(max(4, 32 // args.workers))
    return {
        **psp_env(psp_url, PIX_KEY, SECRET),
        **RIDE_SETTINGS,
        "LAURA_DB_POOL_SIZE": pool,
        "LAURA_DB_MAX_OVERFLOW": "8",
        "LAURA_DB_STATEMENT_POOL_SIZE": pool,
        "LAURA_WORKER_CONCURRENCY": str(args.job_concurrency),
    }


async def _intake_charges(url: str, count: int) -> list[str]:
    """The intake-alone run's charges: the bench's purpose, one owner."""
    txids = [new_txid() for _ in range(count)]
    owner = uuid.uuid4()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO users (id, email, password_hash, name, role) VALUES ($1, 'intake@bench.example', 'x',"
            " 'Bench', 'customer')",
            owner,
        )
        await add_bench_purpose(conn)
        await add_charges(conn, txids, BENCH_PURPOSE, [owner])
    finally:
        await conn.close()
    return txids


async def _prepare_round(
    http: httpx.AsyncClient, conn: asyncpg.Pool, people: People, riders: list[dict], drivers: dict, n: int
) -> list[ReadyRide]:
    """Round `n`'s rides IN_PROGRESS: passenger i is picked up where driver i + n stands."""
    gate = asyncio.Semaphore(4)
    count = len(riders)

    async def one(i: int) -> ReadyRide:
        async with gate:
            return await ride_in_progress(http, conn, riders[i], people.spots[(i + n) % count], drivers)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _pay(http: httpx.AsyncClient, psp: httpx.AsyncClient, sockets: Sockets, ride: ReadyRide) -> dict:
    """One ride through its payment, as the driver's and the passenger's apps and the payer's bank do it."""
    intent = sockets.arrival("payment.intent.created", ride.id)
    confirmed = sockets.arrival("payment.confirmed", ride.id)
    started = time.perf_counter()
    (await http.post(f"/rides/{ride.id}/complete", headers=ride.driver)).raise_for_status()
    completed = time.perf_counter()
    charged, _ = await asyncio.wait_for(intent, 60)
    payment = await http.get(f"/rides/{ride.id}/payment", headers=ride.rider)
    payment.raise_for_status()
    paid, paid_wall = time.perf_counter(), time.time()
    (await psp.post(f"/sandbox/cob/{payment.json()['txid']}/pay")).raise_for_status()
    seen, seen_wall = await asyncio.wait_for(confirmed, 60)
    return {
        "ride": ride.id,
        "complete_ms": (completed - started) * 1000,
        "charge_ms": (charged - completed) * 1000,
        "pay_to_confirmed_ms": (seen - paid) * 1000,
        "complete_to_confirmed_ms": (seen - started) * 1000,
        "paid_wall": paid_wall,
        "seen_wall": seen_wall,
    }


async def _round(http, psp, sockets: Sockets, rides: list[ReadyRide], lanes: int) -> tuple[list[dict], float]:  # type: ignore[no-untyped-def]
    """`lanes` passengers at a time pay the round's rides; returns each ride's figures and the wall time."""
    queue: asyncio.Queue[ReadyRide] = asyncio.Queue()
    for ride in rides:
        queue.put_nowait(ride)
    results: list[dict] = []

    async def lane() -> None:
        while not queue.empty():
            results.append(await _pay(http, psp, sockets, queue.get_nowait()))

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(lanes)))
    return results, time.perf_counter() - started


def _pct(values: list[float]) -> dict:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


async def _stages(conn: asyncpg.Pool, results: list[dict]) -> dict:
    """Payment to `payment.confirmed` split at the database's clock (one machine, one clock): the payment to
    the intake statement's start (the sandbox's webhook, the app, the PSP confirmation), that to the relay's
    publication (the statement, the commit, the relay), and that to the frame read on the socket."""
    rows = await conn.fetch(
        "SELECT o.data ->> 'rideId' AS ride, extract(epoch FROM o.occurred_at) AS ingested,"
        " extract(epoch FROM o.published_at) AS published FROM outbox o WHERE o.type = 'payment.confirmed'"
    )
    at = {
        r["ride"]: (float(r["ingested"]), float(r["published"])) for r in rows if r["published"] is not None
    }
    found = [(r, at[r["ride"]]) for r in results if r["ride"] in at]
    return {
        "pay_to_intake_ms": _pct([(i - r["paid_wall"]) * 1000 for r, (i, _) in found]),
        "intake_to_published_ms": _pct([(p - i) * 1000 for _, (i, p) in found]),
        "published_to_socket_ms": _pct([(r["seen_wall"] - p) * 1000 for r, (_, p) in found]),
    }


async def _books(conn: asyncpg.Pool) -> dict:
    """What SQL says was paid: rides, intents, applied Pix, postings, events, and the ride accounts' sum."""
    one = conn.fetchval
    return {
        "rides_paid": await one("SELECT count(*) FROM rides WHERE status = 'PAID'"),
        "intents_confirmed": await one("SELECT count(*) FROM payment_intents WHERE status = 'CONFIRMED'"),
        "ride_pix_applied": await one(
            "SELECT count(*) FROM financial_events WHERE status = 'applied' AND purpose = 'mobility.ride'"
        ),
        "ride_postings": await one("SELECT count(*) FROM ledger_transactions WHERE entity_type = 'ride'"),
        "double_postings": await one(
            "SELECT count(*) - count(DISTINCT reference) FROM ledger_transactions WHERE entity_type = 'ride'"
        ),
        "payment_confirmed_events": await one("SELECT count(*) FROM outbox WHERE type = 'payment.confirmed'"),
        "ride_accounts_sum_cents": int(
            await one(
                "SELECT coalesce(sum(CASE e.direction WHEN 'C' THEN e.amount ELSE -e.amount END), 0)"
                " FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id"
                " WHERE a.code IN ('1300', '4100', '4200') OR a.code LIKE '2100.%'"
            )
        ),
        "intake_effects": await one("SELECT count(*) FROM bench_pix_effects"),
        "intake_double_effects": await one("SELECT count(*) - count(DISTINCT txid) FROM bench_pix_effects"),
    }


def _wrk_figures(summary: dict, count: int) -> dict:
    return {
        "requests": count,
        "requests_per_s": round(count / (summary["duration_us"] / 1e6)),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "errors": summary["non2xx"] + summary["socket_errors"] + summary["stray"],
    }


async def _intake_alone(meter: CpuMeter, port: int, entries: list[dict], lanes: int) -> dict:
    """The PSP's notifications of the bench purpose's paid charges, each posted once by wrk."""
    headers = {"Content-Type": "application/json"}
    requests = [
        wrk.raw_request("POST", HOOK_PATH, port=port, body=b, headers=headers)
        for b in deliveries(entries, 0.0)
    ]
    summary = await meter.measure(
        asyncio.to_thread(wrk.send_once, requests, port=port, threads=2, connections=lanes)
    )
    return {**_wrk_figures(summary, len(requests)), **meter.per("delivery", len(requests))}


async def _health(port: int, count: int, lanes: int) -> dict:
    requests = [wrk.raw_request("GET", "/health", port=port)] * count
    summary = await asyncio.to_thread(wrk.send_once, requests, port=port, threads=2, connections=lanes)
    return _wrk_figures(summary, count)


async def _platform(
    args: argparse.Namespace, url: str, people: People, intake: list[str], data_dir: str, log
) -> dict:  # type: ignore[no-untyped-def]
    redis_url = os.environ.get("LAURA_REDIS_URL", "redis://127.0.0.1:6379/0") if args.redis else None
    psp_port, port = free_port(), free_port()
    psp_url, base = f"http://127.0.0.1:{psp_port}", f"http://127.0.0.1:{port}"
    env = _env(url, data_dir, psp_url, args)
    processes = {"psp": start_psp(psp_port)}
    try:
        if args.relay_leader == "worker":
            processes["worker"] = start_worker(url, data_dir, env, redis_url, log)
            await wait_for_leader(url, DB_NAME, processes, "worker")
        processes["server"] = start_app(
            url, port, data_dir=data_dir, workers=args.workers, env=env, redis_url=redis_url,
            uvicorn_args=("--loop", "uvloop", "--http", "httptools", "--timeout-keep-alive", "120"), stdout=log, stderr=log,
        )  # fmt: skip
        await wait_ready(base, processes["server"], path="/ready")
        if args.relay_leader == "server":
            await wait_for_leader(url, DB_NAME, processes, "server")
            processes["worker"] = start_worker(url, data_dir, env, redis_url, log)
        settings = Settings(database_url=url, data_dir=Path(data_dir), psp_base_url=psp_url, psp_client_id=PSP_CLIENT[0],
                            psp_client_secret=PSP_CLIENT[1], psp_pix_key=PIX_KEY, psp_webhook_secret=SECRET)  # fmt: skip
        await register_webhook(settings, base_url=base)
        return await _measure(args, url, people, intake, processes, port, psp_url)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=30)


async def _measure(
    args, url, people: People, intake: list[str], processes: dict, port: int, psp_url: str
) -> dict:  # type: ignore[no-untyped-def]
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    base = f"http://127.0.0.1:{port}"
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http,
        httpx.AsyncClient(base_url=psp_url, limits=limits, timeout=60) as psp,
    ):
        driver_tokens = await login_all(http, people.driver_emails)
        rider_tokens = await login_all(http, people.passenger_emails)
        drivers = {d: bearer(t) for d, t in zip(people.driver_ids, driver_tokens)}
        riders = [bearer(t) for t in rider_tokens]
        sockets = Sockets()
        await sockets.open(port, rider_tokens)
        conn = await asyncpg.create_pool(url, min_size=1, max_size=4)
        meter = CpuMeter({name: p.pid for name, p in processes.items()}, conn, DB_NAME)
        try:
            results: list[dict] = []
            seconds = 0.0
            for n in range(args.rounds):
                rides = await _prepare_round(http, conn, people, riders, drivers, n)
                paid, elapsed = await meter.measure(_round(http, psp, sockets, rides, args.lanes))
                results += paid
                seconds += elapsed
            ride_cpu = meter.per("ride", len(results))
            args.leader = await relay_leader(conn, DB_NAME, processes)
            stages = await _stages(conn, results)
            meter.reset()
            entries = await paid_at_psp(psp_url, processes["psp"], intake, pix_key=INTAKE_KEY)
            intake_alone = await _intake_alone(meter, port, entries, args.lanes)
            health = await _health(port, len(intake), args.lanes)
            books = await _books(conn)
        finally:
            await conn.close()
            await sockets.close()
    return _report(args, results, seconds, ride_cpu, stages, intake_alone, health, books)


def _report(args, results, seconds, ride_cpu, stages, intake_alone, health, books) -> dict:  # type: ignore[no-untyped-def]
    rides = len(results)
    pay = _pct([r["pay_to_confirmed_ms"] for r in results])
    rate = round(rides / seconds, 1)
    return {
        "bench": "ride_payments",
        "pairs": args.pairs,
        "rounds": args.rounds,
        "lanes": args.lanes,
        "server_workers": args.workers,
        "job_concurrency": args.job_concurrency,
        "redis": args.redis,
        "relay_leader": args.leader,
        "cpus": os.cpu_count(),
        "rides": rides,
        "rides_paid_per_s": rate,
        "pay_to_confirmed_ms": pay,
        "complete_to_confirmed_ms": _pct([r["complete_to_confirmed_ms"] for r in results]),
        "complete_request_ms": _pct([r["complete_ms"] for r in results]),
        "complete_to_intent_event_ms": _pct([r["charge_ms"] for r in results]),
        "pay_to_confirmed_stages": stages,
        "ride_cpu": ride_cpu,
        "intake_alone": intake_alone,
        "baseline_get_health": health,
        "ratios": {
            "rides_per_s_over_intake_per_s": round(rate / intake_alone["requests_per_s"], 3),
            "pay_to_confirmed_p99_over_intake_p99": round(pay["p99"] / intake_alone["p99_ms"], 2),
        },
        "p99_target_ms": TARGET_P99_MS,
        "p99_target_met": pay["p99"] < TARGET_P99_MS,
        **books,
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "ok": books["rides_paid"] == books["intents_confirmed"] == books["ride_pix_applied"] == rides
        and books["payment_confirmed_events"] == rides
        and books["ride_postings"] == 2 * rides
        and books["double_postings"] == 0
        and books["ride_accounts_sum_cents"] == 0
        and books["intake_effects"] == len(args.intake_txids)
        and books["intake_double_effects"] == 0
        and intake_alone["errors"] == 0,
    }


async def main(args: argparse.Namespace) -> dict:
    configure_logging("WARNING")  # stdout carries the one JSON line; the PSP client's own logs stay out of it
    load_before = round(os.getloadavg()[0], 2)
    url = await fresh_database(server_url(), DB_NAME)
    people = await seed_people(url, args.pairs)
    args.intake_txids = await _intake_charges(url, args.intake)
    # the processes' own logs go to a local file opened once, before any timing starts
    with tempfile.TemporaryDirectory() as data_dir, open(Path(data_dir) / "server.log", "w") as log:  # noqa: ASYNC230
        try:
            result = await _platform(args, url, people, args.intake_txids, data_dir, log)
        except Exception:
            log.flush()
            sys.stderr.write((Path(data_dir) / "server.log").read_text()[-4000:])
            raise
    return {**result, "load_average_1m_before": load_before}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pairs", type=int, default=32, help="drivers and passengers (one ride each per round)"
    )
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--lanes", type=int, default=8, help="rides going through their payment at once")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of the server")
    parser.add_argument("--job-concurrency", type=int, default=4, help="jobs the `laura worker` runs at once")
    parser.add_argument("--intake", type=int, default=1000, help="deliveries of the intake-alone run")
    parser.add_argument(
        "--relay-leader",
        choices=("server", "worker"),
        default="server",
        help="start this process first and wait for its outbox relay to lead",
    )
    parser.add_argument("--redis", action="store_true", help="events between processes over Redis pub/sub")
    print(json.dumps(uvloop.run(main(parser.parse_args()))))
