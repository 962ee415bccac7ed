"""HTTP P2P transfers per second against pgbench's tpcb-like on the same PostgreSQL; prints one JSON line.

    python bench/transfers.py [--database-url URL] [--clients 32] [--accounts 1000] [--duration 20]

Recreates the scratch databases laura_bench_transfers (migrated to head) and laura_bench_transfers_pgb.
Customers are created straight through SQL and the services (a cheap argon2 hash so logins are quick),
their accounts opened and funded from equity; each logs in over HTTP. Then `clients` concurrent clients
post `POST /api/transfers/p2p` (auth, Idempotency-Key, limits, ledger, audit and outbox included) between
random accounts for `duration` seconds to a real uvicorn server in a subprocess
(LAURA_RATE_LIMITS_ENABLED=false, LAURA_LOG_LEVEL=WARNING). Then `pgbench -i -s 32` and
`pgbench -c <clients> -j 2 -T <duration> -n` run on the same server, and `ledger verify` checks the books.
In between, pgbench calls the transfer's one statement (`bank_p2p_send`) directly, with the arguments the
API would send (`pg_only_p2p_tps`): the database's share of a transfer alone, the ceiling of the HTTP
figure on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import tempfile
import time
import uuid

import _wrk as wrk
import asyncpg
import httpx
from _bank_people import seed_customers
from _common import free_port, fresh_database, recreate_database, start_app, wait_ready, with_db

from laura.core.db import Database, plain_url
from laura.ledger import service as ledger

APP_DB = "laura_bench_transfers"
PGBENCH_DB = "laura_bench_transfers_pgb"
PASSWORD = "bench-passw0rd"
PGBENCH = os.environ.get("PGBENCH", "/usr/bin/pgbench")


async def _tokens(http: httpx.AsyncClient, emails: list[str], concurrency: int) -> list[str]:
    semaphore = asyncio.Semaphore(concurrency)

    async def login(email: str) -> str:
        async with semaphore:
            response = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
            response.raise_for_status()
            return str(response.json()["accessToken"])

    return list(await asyncio.gather(*(login(e) for e in emails)))


async def _load(
    http: httpx.AsyncClient,
    users: list[tuple[uuid.UUID, str]],
    tokens: list[str],
    clients: int,
    seconds: float,
) -> tuple[list[float], dict[int, int], float]:
    """`clients` loops posting P2P transfers between random accounts until `seconds` have passed."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < stop:
            sender, recipient = random.sample(range(len(users)), 2)
            body = {"recipientUserId": str(users[recipient][0]), "amount": random.randint(1, 100) / 100}
            headers = {"Authorization": f"Bearer {tokens[sender]}", "Idempotency-Key": str(uuid.uuid4())}
            started = time.perf_counter()
            response = await http.post("/api/transfers/p2p", json=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - started


_WRK_SCRIPT = """
local tokens = {%(tokens)s}
local ids = {%(ids)s}
local n = #tokens
local counter = 0
local nonce = "%(nonce)s"
function setup(thread)
  thread:set("tid", tostring(math.random(1000000000)))
end
function init(args)
  math.randomseed(tonumber(tid))
end
function request()
  local s = math.random(n)
  local r = math.random(n - 1)
  if r >= s then r = r + 1 end
  counter = counter + 1
  local body = '{"recipientUserId":"' .. ids[r] .. '","amount":' .. string.format("%%.2f", math.random(1, 100) / 100) .. '}'
  local headers = {}
  headers["Authorization"] = "Bearer " .. tokens[s]
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = nonce .. "-" .. tid .. "-" .. counter
  return wrk.format("POST", "/api/transfers/p2p", headers, body)
end
"""


def _wrk(
    port: int, users: list[tuple[uuid.UUID, str]], tokens: list[str], clients: int, seconds: float
) -> dict:
    """Drive the load with wrk (C, a Lua script per request) so the client does not eat the server's CPU."""
    script = _WRK_SCRIPT % {
        "tokens": ",".join(f'"{t}"' for t in tokens),
        "ids": ",".join(f'"{u}"' for u, _ in users),
        "nonce": uuid.uuid4().hex,
    }
    return wrk.run(
        script + wrk.DONE_LUA, port=port, threads=min(2, clients), connections=clients, seconds=seconds
    )


def _percentile_ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def _pgbench(server: str, clients: int, seconds: int) -> float:
    url = with_db(server, PGBENCH_DB)
    subprocess.run([PGBENCH, "-i", "-s", "32", "-q", url], check=True, capture_output=True)
    run = subprocess.run(
        [PGBENCH, "-c", str(clients), "-j", "2", "-T", str(seconds), "-n", url],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([0-9.]+)", run.stdout)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output: {run.stdout}")
    return float(match.group(1))


_PG_ONLY_SETUP = """
CREATE TABLE bench_callers AS
  SELECT row_number() OVER (ORDER BY s.user_id) AS n, s.user_id, s.id AS session_id
    FROM auth_sessions s WHERE s.revoked_at IS NULL;
CREATE UNIQUE INDEX ON bench_callers (n);
CREATE FUNCTION bench_p2p(p_from bigint, p_to bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    a bench_callers;
    b bench_callers;
    t uuid := gen_random_uuid();
    outcome text;
BEGIN
    SELECT * INTO a FROM bench_callers WHERE n = p_from;
    SELECT * INTO b FROM bench_callers WHERE n = CASE WHEN p_to = p_from THEN p_from % (SELECT count(*) FROM bench_callers) + 1 ELSE p_to END;
    SELECT r.outcome INTO outcome FROM bank_p2p_send(
        p_session => a.session_id, p_sender => a.user_id, p_transfer_id => t, p_recipient => b.user_id, p_cents => 1,
        p_description => NULL, p_now => now(), p_ledger_tx_id => gen_random_uuid(), p_ledger_reference => 'transfer:' || t,
        p_ledger_reason => 'P2P_TRANSFER', p_ledger_description => 'Transferência entre contas',
        p_sender_code => '2101.' || a.user_id, p_recipient_code => '2101.' || b.user_id,
        p_day_start => date_trunc('day', now()), p_counted => '{SCHEDULED,PENDING,COMPLETED}', p_max_cents => 1000000,
        p_daily_cents => 100000000000, p_idem_owner => a.user_id::text, p_idem_key => t::text, p_idem_hash => md5(t::text),
        p_idem_status => 201, p_idem_body => '{"status": "COMPLETED"}', p_idem_expires => now() + interval '1 day',
        p_audit_chain => (random() * 63)::int::smallint, p_audit_occurred_at => now(), p_audit_actor => a.user_id,
        p_audit_action => 'TRANSFER_COMPLETED', p_audit_resource_type => 'transfer', p_audit_resource_id => t::text,
        p_audit_old => NULL, p_audit_new => '{"type": "P2P", "status": "COMPLETED", "amountCents": 1}',
        p_audit_ip => '127.0.0.1', p_audit_user_agent => 'pgbench', p_audit_request_id => md5(t::text),
        p_audit_canonical => t::text, p_event_types => ARRAY['transfer.completed', 'transfer.received'],
        p_event_data => ARRAY['{"transferId": "' || t || '"}', '{"transferId": "' || t || '"}'],
        p_event_users => ARRAY[a.user_id, b.user_id]) r;
    RETURN outcome;
END $$;
"""
"""A P2P's database work alone: `bank_p2p_send` with the arguments the API would send (a live session, a
fresh key, an audit row, two events), for pgbench to call with no HTTP, Python or driver in front."""

_PG_ONLY_SCRIPT = (
    "\\set sender random(1, {n})\n\\set recipient random(1, {n})\nSELECT bench_p2p(:sender, :recipient);\n"
)


def _pg_only_p2p(url: str, accounts: int, clients: int, seconds: int) -> float:
    """pgbench calling `bank_p2p_send` directly: what the database can do per second with a transfer's
    writes, the ceiling of the HTTP figure on the same machine."""
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", _PG_ONLY_SETUP], check=True, capture_output=True
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(_PG_ONLY_SCRIPT.format(n=accounts))
        script.flush()
        run = subprocess.run(
            [
                PGBENCH,
                "-n",
                "-M",
                "prepared",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-f",
                script.name,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    match = re.search(r"tps = ([0-9.]+)", run.stdout)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output: {run.stdout}")
    return float(match.group(1))


async def _verify(url: str) -> dict:
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            report = await ledger.verify(session)
    finally:
        await db.dispose()
    return {
        "clean": not report.problems,
        "transactions": report.transactions,
        "problems": report.problems[:5],
    }


async def _count_transfers(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM transfers"))
    finally:
        await conn.close()


def _start_server(url: str, port: int, data_dir: str, workers: int) -> subprocess.Popen:
    pool = str(max(4, 32 // workers))
    return start_app(
        url,
        port,
        data_dir=data_dir,
        workers=workers,
        env={"LAURA_DB_POOL_SIZE": pool, "LAURA_DB_MAX_OVERFLOW": "8", "LAURA_DB_STATEMENT_POOL_SIZE": pool},
        uvicorn_args=("--loop", "uvloop", "--http", "httptools"),
    )


async def main(args: argparse.Namespace) -> dict:
    server = plain_url(args.database_url)
    url = await fresh_database(server, APP_DB)
    users = await seed_customers(url, args.accounts, PASSWORD)
    port = free_port()
    use_wrk = wrk.WRK is not None and args.load == "wrk"
    with tempfile.TemporaryDirectory() as data_dir:
        process = _start_server(url, port, data_dir, args.workers)
        try:
            limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
            ) as http:
                await wait_ready(f"http://127.0.0.1:{port}", process)
                tokens = await _tokens(http, [email for _, email in users], args.clients)
                if use_wrk:
                    _wrk(port, users, tokens, args.clients, args.warmup)
                    before = await _count_transfers(url)
                    load = _wrk(port, users, tokens, args.clients, args.duration)
                    wall = load["duration_us"] / 1e6
                    ok = await _count_transfers(url) - before
                    statuses = {"non2xx": load["non2xx"], "socket_errors": load["socket_errors"]}
                    p50, p95, p99 = (round(load[k] / 1000, 2) for k in ("p50_us", "p95_us", "p99_us"))
                else:
                    await _load(http, users, tokens, args.clients, args.warmup)
                    latencies, codes, wall = await _load(http, users, tokens, args.clients, args.duration)
                    ok = codes.get(201, 0)
                    statuses = {str(k): v for k, v in sorted(codes.items())}
                    p50, p95, p99 = (_percentile_ms(latencies, q) for q in (0.50, 0.95, 0.99))
        finally:
            process.terminate()
            process.wait(30)
    pg_only_tps = _pg_only_p2p(url, args.accounts, args.clients, args.duration)
    await recreate_database(server, PGBENCH_DB)
    pgbench_tps = _pgbench(server, args.clients, args.duration)
    tps = ok / wall
    return {
        "bench": "bank_transfers_p2p_http",
        "load_generator": "wrk" if use_wrk else "httpx",
        "server_workers": args.workers,
        "clients": args.clients,
        "accounts": args.accounts,
        "duration_s": round(wall, 1),
        "transfers": ok,
        "statuses": statuses,
        "transfers_per_s": round(tps, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "pgbench_tpcb_tps": round(pgbench_tps, 1),
        "ratio_to_pgbench": round(tps / pgbench_tps, 3),
        "pg_only_p2p_tps": round(pg_only_tps, 1),
        "pg_only_ratio_to_pgbench": round(pg_only_tps / pgbench_tps, 3),
        "targets": {"p99_under_100ms": p99 < 100, "ratio_at_least_0.35": tps / pgbench_tps >= 0.35},
        "ledger_verify": await _verify(url),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--load", choices=["wrk", "httpx"], default="wrk", help="wrk when installed, else httpx"
    )
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
