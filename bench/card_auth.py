"""Card network authorizations per second over HTTP, against the authorization's own SQL and pgbench's
tpcb-like on the same PostgreSQL, in one run; prints one JSON line.

    python bench/card_auth.py [--database-url URL] [--clients 32] [--cards 10000] [--duration 20]

Recreates the scratch databases laura_bench_card_auth (migrated to head) and laura_bench_card_auth_pgb.
Customers are opened and funded through the services (one per `--cards-per-customer` cards), and the
cards COPYed in sealed under the first data key, with their number's and CVV's MACs under the server's
master key (LAURA_SECRET_KEY, set here). Then `clients` concurrent wrk connections post
`POST /api/card-network/authorizations` (X-Api-Key, the one statement `card_authorize`: the card's lock,
the limits, the ledger hold, the row and its event) on random cards for `duration` seconds to a real
uvicorn server in a subprocess (rate limits off, WARNING logs). Then pgbench calls `card_authorize` directly with random cards and the arguments the API would send
(`db_tps`: the database's share of an authorization alone, the HTTP figure's ceiling on this machine), and
last `pgbench -b tpcb-like` on its own database. `ledger verify` checks the books at the end. Goals: HTTP
at least 0.6 of the database-only figure, which is at least 0.3 of tpcb-like.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import subprocess
import tempfile
import uuid

import _wrk as wrk
import asyncpg
from _bank_people import CARD_EXPIRY as EXPIRY
from _bank_people import CARD_MASTER_KEY as MASTER_KEY
from _bank_people import seed_cards
from _common import free_port, fresh_database, recreate_database, start_app, wait_ready, with_db

from laura.core.db import Database, plain_url
from laura.ledger import service as ledger

APP_DB = "laura_bench_card_auth"
PGBENCH_DB = "laura_bench_card_auth_pgb"
API_KEY = "bench-network-key"
PGBENCH = os.environ.get("PGBENCH", "/usr/bin/pgbench")


_WRK_SCRIPT = """
local cards = {%(cards)s}
local n = #cards
local counter = 0
local nonce = "%(nonce)s"
function setup(thread)
  thread:set("tid", tostring(math.random(1000000000)))
end
function init(args)
  math.randomseed(tonumber(tid))
end
function request()
  local card = cards[math.random(n)]
  counter = counter + 1
  local body = '{"cardNumber":"' .. card[1] .. '","expiry":"%(expiry)s","cvv":"' .. card[2] .. '","amount":'
    .. string.format("%%.2f", math.random(100, 20000) / 100) .. ',"currency":"BRL","merchant":{"name":'
    .. '"Supermercado Bench","mcc":"5411","city":"Sao Paulo","country":"BR"},"idempotencyKey":"'
    .. nonce .. "-" .. tid .. "-" .. counter .. '"}'
  local headers = {}
  headers["X-Api-Key"] = "%(key)s"
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/card-network/authorizations", headers, body)
end
"""


def _wrk(port: int, cards: list[tuple[str, str]], clients: int, seconds: float) -> dict:
    """Random cards' authorizations with wrk (C, a Lua script per request), so the client does not eat
    the server's CPU."""
    script = _WRK_SCRIPT % {
        "cards": ",".join(f'{{"{number}","{cvv}"}}' for number, cvv in cards),
        "nonce": uuid.uuid4().hex,
        "expiry": EXPIRY,
        "key": API_KEY,
    }
    return wrk.run(
        script + wrk.DONE_LUA, port=port, threads=min(2, clients), connections=clients, seconds=seconds
    )


_DB_ONLY_SETUP = """
CREATE TABLE bench_cards AS
  SELECT row_number() OVER (ORDER BY c.id) AS n, c.number_hash, c.cvv_mac FROM cards c;
CREATE UNIQUE INDEX ON bench_cards (n);
CREATE FUNCTION bench_authorize(p_n bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c bench_cards;
    t uuid := gen_random_uuid();
    outcome text;
BEGIN
    SELECT * INTO c FROM bench_cards WHERE n = p_n;
    SELECT r.outcome INTO outcome FROM card_authorize(
        p_id => t, p_idempotency_key => 'pgbench:' || t, p_request_hash => sha256(t::text::bytea),
        p_number_hash => c.number_hash, p_expiry => '%(expiry)s', p_cvv_mac => c.cvv_mac,
        p_cents => (100 + random() * 19900)::bigint, p_currency => 'BRL', p_merchant => 'Supermercado Bench',
        p_mcc => '5411', p_city => 'Sao Paulo', p_country => 'BR', p_category => 'FOOD', p_now => now(),
        p_day_start => date_trunc('day', now()), p_month_start => date_trunc('month', now()),
        p_hold_id => gen_random_uuid(), p_hold_seconds => 604800) r;
    RETURN outcome;
END $$;
"""
"""An authorization's database work alone: `card_authorize` with what the API would send (the MACs, a
fresh key and ids, the Brasília periods as the server's day and month), for pgbench with nothing in front."""


def _tps(output: str) -> float:
    match = re.search(r"tps = ([0-9.]+)", output)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output: {output}")
    return float(match.group(1))


def _db_only(url: str, cards: int, clients: int, seconds: int) -> float:
    """pgbench calling `card_authorize` directly on random cards."""
    setup = _DB_ONLY_SETUP % {"expiry": EXPIRY}
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", setup], check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(f"\\set card random(1, {cards})\nSELECT bench_authorize(:card);\n")
        script.flush()
        command = [PGBENCH, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds)]
        run = subprocess.run([*command, "-f", script.name, url], check=True, capture_output=True, text=True)
    return _tps(run.stdout)


def _tpcb(server: str, clients: int, seconds: int) -> float:
    url = with_db(server, PGBENCH_DB)
    subprocess.run([PGBENCH, "-i", "-s", "32", "-q", url], check=True, capture_output=True)
    command = [PGBENCH, "-b", "tpcb-like", "-c", str(clients), "-j", "2", "-T", str(seconds), "-n", url]
    return _tps(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT status, count(*) FROM card_transactions GROUP BY status")
        return {row[0]: int(row[1]) for row in rows}
    finally:
        await conn.close()


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


async def main(args: argparse.Namespace) -> dict:
    if wrk.WRK is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    server = plain_url(args.database_url)
    url = await fresh_database(server, APP_DB)
    cards = await seed_cards(url, args.cards // args.cards_per_customer, args.cards_per_customer)
    port = args.port or free_port()
    pool = str(max(4, 32 // args.workers))
    env = {
        "LAURA_SECRET_KEY": base64.urlsafe_b64encode(MASTER_KEY).decode(),
        "LAURA_CARD_NETWORK_API_KEYS": API_KEY,
        "LAURA_DB_POOL_SIZE": "4",
        "LAURA_DB_STATEMENT_POOL_SIZE": pool,
    }
    with tempfile.TemporaryDirectory() as data_dir:
        process = start_app(
            url,
            port,
            data_dir=data_dir,
            workers=args.workers,
            env=env,
            uvicorn_args=("--loop", "uvloop", "--http", "httptools"),
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}", process)
            _wrk(port, cards, args.clients, args.warmup)
            before = await _counts(url)
            load = _wrk(port, cards, args.clients, args.duration)
        finally:
            process.terminate()
            process.wait(30)
    after = await _counts(url)
    wall = load["duration_us"] / 1e6
    answered = sum(after.values()) - sum(before.values())
    approved = after.get("AUTHORIZED", 0) - before.get("AUTHORIZED", 0)
    load_during_http = os.getloadavg()
    db_tps = _db_only(url, len(cards), args.clients, args.duration)
    await recreate_database(server, PGBENCH_DB)
    tpcb_tps = _tpcb(server, args.clients, args.duration)
    http_tps = answered / wall
    return {
        "bench": "card_network_authorizations_http",
        "server_workers": args.workers,
        "clients": args.clients,
        "cards": len(cards),
        "duration_s": round(wall, 1),
        "authorizations": answered,
        "approved": approved,
        "statuses": {"non2xx": load["non2xx"], "socket_errors": load["socket_errors"]},
        "http_tps": round(http_tps, 1),
        "http_p50_ms": round(load["p50_us"] / 1000, 2),
        "http_p99_ms": round(load["p99_us"] / 1000, 2),
        "db_tps": round(db_tps, 1),
        "tpcb_tps": round(tpcb_tps, 1),
        "ratios": {"http_to_db": round(http_tps / db_tps, 3), "db_to_tpcb": round(db_tps / tpcb_tps, 3)},
        "goals": {
            "http_at_least_0.6_db": http_tps >= 0.6 * db_tps,
            "db_at_least_0.3_tpcb": db_tps >= 0.3 * tpcb_tps,
        },
        "load_average_after_http": [round(x, 2) for x in load_during_http],
        "ledger_verify": await _verify(url),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--cards-per-customer", type=int, default=10)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--port", type=int, default=None, help="the server's port (default: a free one)")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
