"""What the analytics reads cost on a year of a bank's data, beside `GET /health`, one JSON line.

    python bench/analytics.py [--customers 10000] [--purchases 300] [--logins 500] [--seconds 5]
        [--connections 16] [--rounds 2]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres). Recreates the
scratch database laura_bench_analytics at head and fills it in SQL (generate_series, the ledger's guard
triggers off for the load: the rows are written as the app leaves them, not through its functions):
`customers` customers, each with a ledger account, `purchases` card purchases over the last 365 days
(about 3 million for 10,000 x 300: most captured, some partly or fully refunded, some declined or voided,
across the MCC categories and 50 merchants), a paid bill a month, two P2P transfers a month (a tenth
tagged with a category) and a salary credit a month; then VACUUM ANALYZE. The app runs as one uvicorn
process (rate limits off), `logins` random customers log in, and wrk (`bench/_wrk.py`) drives each route
for `seconds`, first at `connections` concurrent users and then at one, each request as a random
logged-in customer:

- `GET /health` (no authentication: the HTTP ceiling of this machine),
- `GET /auth/me` (the cheapest authenticated read: what the token check and the framework cost alone),
- `GET /api/analytics/category-spending?period=MONTHLY`,
- `GET /api/analytics/spending-trends?days=30`,
- `GET /api/analytics/summary?months=6`,
- `GET /api/budgets/summary` when the budgets feature is in this checkout (its table), with three
  MONTHLY budgets per customer (`seed_budgets`).

The whole sequence is repeated `rounds` times; per route and load: requests per second, p50 and p99 (the
median of the rounds), and the share of `/health`'s throughput. Goals: each analytics route at least 0.5
of `/health` at 16 users, p99 under 20 ms at one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import _wrk as wrk

DB_NAME = "laura_bench_analytics"
PASSWORD = "bench-analytics-2026"
POOL_SIZE = 20
HEALTH = "/health"
AUTH_ME = "/auth/me"
ROUTES = [
    HEALTH,
    AUTH_ME,
    "/api/analytics/category-spending?period=MONTHLY",
    "/api/analytics/spending-trends?days=30",
    "/api/analytics/summary?months=6",
]
BUDGET_SUMMARY = "/api/budgets/summary"

# (mcc, category, merchant base): the categories `card_network.mcc` gives these codes
_MERCHANTS = """
    ('5411', 'FOOD', 'Supermercado'), ('5812', 'FOOD', 'Restaurante'), ('4121', 'TRANSPORT', 'Corrida'),
    ('5541', 'TRANSPORT', 'Posto'), ('7832', 'LEISURE', 'Cinema'), ('5912', 'HEALTH', 'Farmácia'),
    ('5651', 'SHOPPING', 'Loja'), ('4814', 'BILLS', 'Telefonia'), ('8220', 'EDUCATION', 'Curso'),
    ('7011', 'TRAVEL', 'Hotel'), ('6011', 'OTHER', 'Saque')
"""

_FILL = f"""
SET session_replication_role = replica;
INSERT INTO users (id, email, password_hash, name, role)
SELECT gen_random_uuid(), 'analytics-' || n || '@bench.example', $hash$, 'Bench Customer', 'customer'
  FROM generate_series(1, %(customers)d) n;
CREATE TEMP TABLE bench_customers AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM users;
INSERT INTO ledger_accounts (id, code, name, type, owner_id, debits_must_not_exceed_credits)
SELECT gen_random_uuid(), '2101.' || id, 'Conta corrente Bench', 'LIABILITY', id, true FROM bench_customers;
CREATE TEMP TABLE bench_merchants (n serial, mcc char(4), category text, merchant text);
INSERT INTO bench_merchants (mcc, category, merchant)
SELECT m.mcc, m.category, m.base || ' ' || k FROM (VALUES {_MERCHANTS}) m(mcc, category, base),
       generate_series(1, 5) k;
INSERT INTO card_transactions (id, card_id, user_id, amount_cents, captured_cents, refunded_cents, merchant, mcc,
                               merchant_city, merchant_country, category, status, decline_code,
                               idempotency_key, request_hash, created_at, updated_at)
SELECT gen_random_uuid(), c.id, c.id, p.cents,
       CASE WHEN p.fate < 0.95 THEN p.cents ELSE 0 END,
       CASE WHEN p.fate < 0.90 THEN 0 WHEN p.fate < 0.93 THEN p.cents / 3 WHEN p.fate < 0.95 THEN p.cents ELSE 0 END,
       m.merchant, m.mcc, 'São Paulo', 'BR', m.category,
       CASE WHEN p.fate < 0.93 THEN 'CAPTURED' WHEN p.fate < 0.95 THEN 'REFUNDED' WHEN p.fate < 0.98 THEN 'VOIDED'
            ELSE 'DECLINED' END,
       CASE WHEN p.fate >= 0.98 THEN 'INSUFFICIENT_BALANCE' END,
       'bench-' || c.n || '-' || p.k, '\\x00'::bytea, p.at, p.at
  FROM bench_customers c
 CROSS JOIN LATERAL (SELECT k, (500 + random() * 49500)::bigint AS cents, random() AS fate,
                            1 + (random() * 54)::int AS merchant, now() - random() * interval '365 days' AS at
                       FROM generate_series(1, %(purchases)d) k WHERE c.n > 0) p
  JOIN bench_merchants m ON m.n = p.merchant;
INSERT INTO bill_payments (id, user_id, barcode, digitable_line, type, recipient, amount_cents, payment_date,
                           status, receipt, created_at, paid_at)
SELECT gen_random_uuid(), c.id, lpad((c.n * 100 + k)::text, 44, '0'), lpad((c.n * 100 + k)::text, 47, '0'),
       'UTILITY', 'Energia', (5000 + random() * 45000)::bigint, (now() - k * interval '1 month')::date,
       'COMPLETED', 'RB' || lpad((c.n * 100 + k)::text, 12, '0'), now() - k * interval '1 month',
       now() - k * interval '1 month'
  FROM bench_customers c, generate_series(0, 11) k;
INSERT INTO transfers (id, user_id, type, amount_cents, fee_cents, status, recipient_user_id, created_at,
                       completed_at, category)
SELECT gen_random_uuid(), c.id, 'P2P', (1000 + random() * 99000)::bigint, 0, 'COMPLETED', r.id, t.at, t.at,
       CASE WHEN random() < 0.1 THEN 'LEISURE' END
  FROM bench_customers c
 CROSS JOIN LATERAL (SELECT now() - random() * interval '365 days' AS at, 1 + (random() * (%(customers)d - 1))::int AS other
                       FROM generate_series(1, 24) WHERE c.n > 0) t
  JOIN bench_customers r ON r.n = t.other;
CREATE TEMP TABLE bench_salaries AS
SELECT gen_random_uuid() AS tx, a.id AS account, now() - k * interval '1 month' AS at, c.n, k
  FROM bench_customers c JOIN ledger_accounts a ON a.code = '2101.' || c.id, generate_series(0, 11) k;
INSERT INTO ledger_transactions (id, reference, kind, reason, amount, created_at)
SELECT tx, 'bench:salary:' || n || ':' || k, 'posting', 'PIX_RECEIVED', 500000, at FROM bench_salaries;
INSERT INTO ledger_entries (transaction_id, account_id, direction, amount, pending, created_at)
SELECT tx, account, 'C', 500000, false, at FROM bench_salaries
UNION ALL
SELECT tx, (SELECT id FROM ledger_accounts WHERE code = '1100'), 'D', 500000, false, at FROM bench_salaries;
SET session_replication_role = DEFAULT;
"""


_BUDGETS = """
INSERT INTO budgets (id, user_id, category, limit_cents, period, start_date)
SELECT gen_random_uuid(), u.id, b.category, b.cents, 'MONTHLY', date_trunc('year', now())::date
  FROM users u, (VALUES ('FOOD', 150000), ('TRANSPORT', 60000), ('LEISURE', 40000)) b(category, cents)
"""


async def seed_budgets(conn: asyncpg.Connection) -> bool:
    """Three MONTHLY budgets (FOOD, TRANSPORT, LEISURE) for every customer, when this checkout has the
    budgets feature (its table); whether it has."""
    if await conn.fetchval("SELECT to_regclass('budgets')") is None:
        return False
    await conn.execute(_BUDGETS)
    return True


async def _prepare(server: str, customers: int, purchases: int) -> tuple[str, dict]:
    url = await common.fresh_database(server, DB_NAME)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    conn = await asyncpg.connect(url)
    started = time.monotonic()
    try:
        await conn.execute(
            (_FILL % {"customers": customers, "purchases": purchases}).replace("$hash$", f"'{cheap}'")
        )
        budgets = await seed_budgets(conn)
        await conn.execute("VACUUM ANALYZE")
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("card_transactions", "bill_payments", "transfers", "ledger_entries")
        }
    finally:
        await conn.close()
    return url, {**counts, "budgets": budgets, "fill_s": round(time.monotonic() - started, 1)}


async def _tokens(port: int, count: int, customers: int) -> list[str]:
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:

        async def one(n: int) -> str:
            async with gate:
                body = {"email": f"analytics-{n}@bench.example", "password": PASSWORD}
                answer = await http.post("/auth/login", json=body)
                answer.raise_for_status()
                return str(answer.json()["accessToken"])

        chosen = random.sample(range(1, customers + 1), min(count, customers))
        return list(await asyncio.gather(*(one(n) for n in chosen)))


def _figures(phases: list[dict]) -> dict:
    requests = sum(p["requests"] for p in phases)
    return {
        "requests_per_s": round(requests / (sum(p["duration_us"] for p in phases) / 1e6), 1),
        "p50_ms": round(statistics.median(p["p50_us"] for p in phases) / 1000, 2),
        "p99_ms": round(statistics.median(p["p99_us"] for p in phases) / 1000, 2),
        "non2xx": sum(p["non2xx"] for p in phases),
        "socket_errors": sum(p["socket_errors"] for p in phases),
    }


async def _measure(port: int, tokens: list[str], routes: list[str], args: argparse.Namespace) -> dict:
    scripts = {route: wrk.get_script(route, [] if route == HEALTH else tokens) for route in routes}
    loads = {f"{args.connections}_users": args.connections, "1_user": 1}
    phases: dict[str, dict[str, list[dict]]] = {load: {route: [] for route in routes} for load in loads}
    for route in routes:  # warm-up, not counted
        await asyncio.to_thread(wrk.run, scripts[route], port=port, threads=2, connections=2, seconds=1)
    for _ in range(args.rounds):
        for load, connections in loads.items():
            for route in routes:
                summary = await asyncio.to_thread(
                    wrk.run,
                    scripts[route],
                    port=port,
                    threads=min(2, connections),
                    connections=connections,
                    seconds=args.seconds,
                )
                phases[load][route].append(summary)
    figures = {
        load: {route: _figures(p) for route, p in by_route.items()} for load, by_route in phases.items()
    }
    for by_route in figures.values():
        ceiling = by_route[HEALTH]["requests_per_s"]
        for route, found in by_route.items():
            found["share_of_health"] = round(found["requests_per_s"] / ceiling, 2)
    return figures


async def run(args: argparse.Namespace, data_dir: str, log) -> dict:  # type: ignore[no-untyped-def]
    url, volume = await _prepare(common.server_url(), args.customers, args.purchases)
    routes = ROUTES + ([BUDGET_SUMMARY] if volume["budgets"] else [])
    port = common.free_port()
    env = {
        "LAURA_SECRET_KEY": "YmVuY2gtYW5hbHl0aWNzLXNlY3JldC1rZXktMzJieXQ=",
        "LAURA_DB_POOL_SIZE": str(POOL_SIZE),
        "LAURA_DB_MAX_OVERFLOW": "0",
    }
    process = common.start_app(
        url,
        port,
        data_dir=data_dir,
        workers=1,
        env=env,
        uvicorn_args=("--timeout-keep-alive", "120"),
        stdout=log,
        stderr=log,
    )
    started = time.monotonic()
    try:
        await common.wait_ready(f"http://127.0.0.1:{port}", process)
        tokens = await _tokens(port, args.logins, args.customers)
        figures = await _measure(port, tokens, routes, args)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "benchmark": "analytics",
        "customers": args.customers,
        "rows": volume,
        "logged_in": len(tokens),
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "routes": figures,
        "wall_s": round(time.monotonic() - started, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--purchases", type=int, default=300, help="card purchases per customer over a year")
    parser.add_argument("--logins", type=int, default=500, help="customers who log in and make the requests")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=5, help="length of each route's phase")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, open(Path(data_dir) / "server.log", "w") as log:
        print(json.dumps(asyncio.run(run(args, data_dir, log))))


if __name__ == "__main__":
    main()
