"""What an ordinary authenticated read costs: three routes beside `GET /health`, one JSON line.

    python bench/ordinary_routes.py [--users 100] [--connections 32] [--seconds 5] [--rounds 3]
        [--source DIR] [--baseline DIR]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres). Recreates the
scratch database laura_bench_ordinary at head with `users` customers (each with a checking account) and
`users` approved drivers (each with a vehicle), all with one cheap password hash, and starts the app from
`--source` (default: this checkout) as one uvicorn process (rate limits off, `POOL_SIZE` pooled
connections). Every user logs in once. Then wrk (`bench/_wrk.py`) drives, for `seconds` each, in turn:

- `GET /health` (no authentication: the framework, the middleware and the machine),
- `GET /auth/me` (customers and drivers),
- `GET /api/accounts/me` (customers),
- `GET /drivers/me` (drivers),

each request with a random caller's token and `Accept-Encoding: gzip`, as a browser or httpx sends. The
whole sequence is repeated `rounds` times. With `--baseline DIR`, a second server runs the code of another
checkout (e.g. a worktree of the commit before a change) on the same database, and every phase runs on
both, one after the other, so the two are compared under the same load of the machine.

Per route: requests per second, wrk's p50 and p99 (the median of the rounds' figures), and the CPU the
server process and the database's backends spent per request (psutil, summed over the route's phases;
`range` gives each round's server figure): the machine's other load moves latency much more than it
moves CPU per request. The server's log goes to a temporary file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import psutil
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import _wrk as wrk

from laura.bank.accounts.service import open_checking_account
from laura.core.db import Database

DB_NAME = "laura_bench_ordinary"
PASSWORD = "bench-ordinary-2026"
POOL_SIZE = 20
ROUTES = ("/health", "/auth/me", "/api/accounts/me", "/drivers/me")


async def _prepare(server: str, count: int) -> tuple[str, list[str], list[str]]:
    """A fresh database at head; returns its URL and the customers' and drivers' e-mails."""
    url = await common.fresh_database(server, DB_NAME)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    customers = [(uuid.uuid4(), f"customer-{n}@bench.example") for n in range(count)]
    drivers = [(uuid.uuid4(), uuid.uuid4(), f"driver-{n}@bench.example") for n in range(count)]
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "users",
            records=[(u, e, cheap, "Bench Customer", "customer") for u, e in customers]
            + [(u, e, cheap, "Bench Driver", "driver") for u, _, e in drivers],
            columns=["id", "email", "password_hash", "name", "role"],
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
                    False,
                )
                for n, (u, d, _) in enumerate(drivers)
            ],
            columns=common.DRIVER_COLUMNS,
        )
        await conn.copy_records_to_table(
            "vehicles",
            records=[
                (uuid.uuid4(), d, f"ORD{n:04d}", "Toyota", "Corolla", datetime.now(UTC).year - 1, "standard")
                for n, (_, d, _) in enumerate(drivers)
            ],
            columns=["id", "driver_id", "license_plate", "brand", "model", "year", "category"],
        )
    finally:
        await conn.close()
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        async with db.unit_of_work() as session:
            for user_id, _ in customers:
                await open_checking_account(session, user_id, "Bench Customer")
    finally:
        await db.dispose()
    return url, [e for _, e in customers], [e for _, _, e in drivers]


def _server(source: Path, url: str, port: int, data_dir: str, log) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """The app of checkout `source` (its `laura` first on the path, its own migrations for /ready)."""
    env = {
        "PYTHONPATH": str(source),
        "LAURA_SECRET_KEY": "YmVuY2gtb3JkaW5hcnktc2VjcmV0LWtleS0zMi1ieXQ=",
        "LAURA_DB_POOL_SIZE": str(POOL_SIZE),
        "LAURA_DB_MAX_OVERFLOW": "0",
    }
    args = ("--app-dir", str(source), "--timeout-keep-alive", "120")
    return common.start_app(
        url, port, data_dir=data_dir, workers=1, env=env, uvicorn_args=args, stdout=log, stderr=log
    )


async def _tokens(port: int, emails: list[str]) -> list[str]:
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:

        async def one(email: str) -> str:
            async with gate:
                answer = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
                answer.raise_for_status()
                return str(answer.json()["accessToken"])

        return list(await asyncio.gather(*(one(e) for e in emails)))


def _cpu_seconds(processes, kind: str = "both") -> dict[int, float]:  # type: ignore[no-untyped-def]
    """CPU seconds per process: user + system, or only `kind` ("user" or "system")."""
    found = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        found[process.pid] = times.user + times.system if kind == "both" else getattr(times, kind)
    return found


class Server:
    """One running app: its port, its process tree and the database backends it holds."""

    def __init__(self, name: str, source: Path, process: subprocess.Popen, port: int) -> None:
        self.name, self.source, self.process, self.port = name, source, process, port
        self.root = psutil.Process(process.pid)

    def cpu(self, kind: str = "both") -> float:
        return sum(_cpu_seconds([self.root, *self.root.children(recursive=True)], kind).values())


async def _backends_cpu(conn: asyncpg.Connection) -> dict[int, float]:
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", DB_NAME
    )
    return _cpu_seconds(psutil.Process(r["pid"]) for r in rows if psutil.pid_exists(r["pid"]))


async def _phase(server: Server, conn: asyncpg.Connection, script: str, args: argparse.Namespace) -> dict:
    """One wrk run against one route of one server, with the CPU it cost the server and the database."""
    system_before = server.cpu("system")
    server_before, db_before = server.cpu(), await _backends_cpu(conn)
    summary = await asyncio.to_thread(
        wrk.run, script, port=server.port, threads=2, connections=args.connections, seconds=args.seconds
    )
    server_after, db_after = server.cpu(), await _backends_cpu(conn)
    summary["server_cpu_s"] = server_after - server_before
    summary["server_system_s"] = server.cpu("system") - system_before
    summary["db_cpu_s"] = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
    return summary


def _figures(phases: list[dict]) -> dict:
    requests = sum(p["requests"] for p in phases)
    per_round = [p["server_cpu_s"] * 1000 / max(1, p["requests"]) for p in phases]
    return {
        "requests_per_s": round(requests / (sum(p["duration_us"] for p in phases) / 1e6), 1),
        "p50_ms": round(statistics.median(p["p50_us"] for p in phases) / 1000, 2),
        "p99_ms": round(statistics.median(p["p99_us"] for p in phases) / 1000, 2),
        "server_cpu_ms_per_request": round(sum(p["server_cpu_s"] for p in phases) * 1000 / requests, 3),
        "server_cpu_ms_per_request_range": [round(min(per_round), 3), round(max(per_round), 3)],
        "server_system_share": round(
            sum(p["server_system_s"] for p in phases) / max(1e-9, sum(p["server_cpu_s"] for p in phases)), 2
        ),
        "db_cpu_ms_per_request": round(sum(p["db_cpu_s"] for p in phases) * 1000 / requests, 3),
        "non2xx": sum(p["non2xx"] for p in phases),
        "socket_errors": sum(p["socket_errors"] for p in phases),
    }


async def run(args: argparse.Namespace, data_dir: str, log) -> dict:  # type: ignore[no-untyped-def]
    url, customers, drivers = await _prepare(common.server_url(), args.users)
    sources = {"current": Path(args.source).resolve()}
    if args.baseline:
        sources["baseline"] = Path(args.baseline).resolve()
    servers: list[Server] = []
    try:
        for name, source in sources.items():
            port = common.free_port()
            servers.append(Server(name, source, _server(source, url, port, data_dir, log), port))
            await common.wait_ready(f"http://127.0.0.1:{port}", servers[-1].process)
        return await _measure(servers, url, customers, drivers, args)
    finally:
        for server in servers:
            server.process.terminate()
        for server in servers:
            server.process.wait(timeout=30)


async def _measure(
    servers: list[Server], url: str, customers: list[str], drivers: list[str], args: argparse.Namespace
) -> dict:
    scripts = {}
    for server in servers:
        customer_tokens = await _tokens(server.port, customers)
        driver_tokens = await _tokens(server.port, drivers)
        callers = {
            "/health": [],
            "/auth/me": customer_tokens + driver_tokens,
            "/api/accounts/me": customer_tokens,
            "/drivers/me": driver_tokens,
        }
        scripts[server.name] = {route: wrk.get_script(route, callers[route]) for route in ROUTES}
    conn = await asyncpg.connect(url)
    phases: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    started = time.monotonic()
    try:
        for server in servers:  # warm-up: every route once on every server, not counted
            for route in args.routes:
                await asyncio.to_thread(
                    wrk.run,
                    scripts[server.name][route],
                    port=server.port,
                    threads=2,
                    connections=args.connections,
                    seconds=1,
                )
        for _ in range(args.rounds):
            for route in args.routes:
                for server in servers:
                    phases[server.name][route].append(
                        await _phase(server, conn, scripts[server.name][route], args)
                    )
    finally:
        await conn.close()
    return {
        "benchmark": "ordinary_routes",
        "users": args.users,
        "connections": args.connections,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "sources": {server.name: _described(server.source) for server in servers},
        "routes": {
            name: {route: _figures(p) for route, p in by_route.items()} for name, by_route in phases.items()
        },
        **({"phases": phases} if args.phases else {}),
        "wall_s": round(time.monotonic() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _described(source: Path) -> str:
    """The checkout and its commit (with `+dirty` when it has uncommitted changes)."""
    git = ["git", "-C", str(source)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "laura"], capture_output=True, text=True, check=False
    )
    return f"{source} @ {head.stdout.strip()}{'+dirty' if dirty.stdout.strip() else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100, help="customers, and as many drivers")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=5, help="length of each route's phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--source", default=str(common.ROOT), help="the checkout whose app is measured")
    parser.add_argument("--baseline", help="another checkout, measured side by side on the same database")
    parser.add_argument(
        "--routes", nargs="+", choices=ROUTES, default=list(ROUTES), help="a subset of the routes"
    )
    parser.add_argument("--phases", action="store_true", help="also print every phase's own figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, open(Path(data_dir) / "server.log", "w") as log:
        print(json.dumps(asyncio.run(run(args, data_dir, log))))


if __name__ == "__main__":
    main()
