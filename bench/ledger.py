"""Ledger posting throughput against pgbench's tpcb-like on the same server; prints one JSON line.

    python bench/ledger.py [--duration 20] [--clients 16] [--rounds 4] [--accounts 10000] [--hot 10]
                           [--service-duration 5]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres). Recreates the
scratch databases laura_bench_ledger (migrated to head) and laura_bench_pgbench. Each phase runs
`duration` seconds in total with `clients` concurrent connections; every posting is a two-line
`ledger_post` call (one round trip):

- random: between two random accounts among `accounts` customer accounts (no-overdraft flag, funded);
- hot: between two of `hot` accounts flagged hot (balances sharded, the platform-fee case);
- contended: between two of `hot` regular accounts with the no-overdraft flag (row locks, no shards);
- pgbench: `pgbench -i -s 16` once, then `pgbench -c <clients> -j 2 -T <slice> -n` (built-in tpcb-like);
- random_c_client: the random phase driven by pgbench itself (a script calling ledger_post, -M prepared),
  to tell the cost of the function from the cost of the Python client on the same CPUs;
- service: random accounts through laura.ledger.service.post in a unit of work (BEGIN, call, COMMIT).

The first five run interleaved in `rounds` slices (random, hot, contended, pgbench, random_c_client, random, ...), so a
change of load on a shared machine weighs on all of them alike. Then `verify` runs over the whole ledger
and its result is part of the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg
from _common import recreate_database, server_url, with_db

from laura.core.db import Database, plain_url
from laura.core.migrations import upgrade
from laura.core.models import uuid7
from laura.ledger import service

LEDGER_DB = "laura_bench_ledger"
PGBENCH_DB = "laura_bench_pgbench"
FUNDING_CENTS = 10**12
POST = (
    "SELECT (r.tx).id FROM ledger_post($1, $2, 'bench', NULL, NULL, NULL, NULL, NULL,"
    " ARRAY[$3::uuid, $4::uuid], '{NULL,NULL}'::text[], '{D,C}'::text[], ARRAY[$5::bigint, $5::bigint]) r"
)
"""A two-line posting; the arrays are built by the server, which spares the client encoding them."""


async def _open_accounts(url: str, prefix: str, count: int, *, hot: bool, funded: bool) -> list:
    """Open `count` accounts in one unit of work; fund the flagged ones from 3100 in one posting."""
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            ids = []
            for i in range(count):
                account = await service.open_account(
                    session,
                    code=f"{prefix}.{i}",
                    name=f"bench {prefix} {i}",
                    type="LIABILITY",
                    debits_must_not_exceed_credits=funded,
                    hot=hot,
                )
                ids.append(account.id)
            if funded:
                lines = [("3100", "D", FUNDING_CENTS * count)] + [(a, "C", FUNDING_CENTS) for a in ids]
                await service.post(session, lines, reference=f"bench-funding-{prefix}", reason="funding")
        return ids
    finally:
        await db.dispose()


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else 0.0


def _summary(count: int, elapsed: float, latencies: list[float], errors: collections.Counter) -> dict:
    return {
        "tps": round(count / elapsed, 1),
        "postings": count,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(3)),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
    }


async def _raw_phase(url: str, accounts: list, *, clients: int, duration: float, tag: str) -> tuple:
    """`clients` connections calling ledger_post directly (asyncpg, autocommit: one round trip each)."""
    pool = await asyncpg.create_pool(url, min_size=clients, max_size=clients)
    latencies: list[float] = []
    errors: collections.Counter = collections.Counter()
    deadline = time.perf_counter() + duration

    async def worker(n: int) -> None:
        rng = random.Random(n)
        async with pool.acquire() as conn:
            i = 0
            while time.perf_counter() < deadline:
                debit, credit = rng.sample(accounts, 2)
                amount = rng.randint(1, 10_000)
                started = time.perf_counter()
                try:
                    await conn.fetchval(POST, uuid7(), f"{tag}-{n}-{i}", debit, credit, amount)
                except asyncpg.PostgresError as exc:
                    errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                else:
                    latencies.append(time.perf_counter() - started)
                i += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return elapsed, latencies, errors


async def _service_phase(url: str, accounts: list, *, clients: int, duration: float) -> dict:
    """The same postings through the Python API: a unit of work per posting (BEGIN, ledger_post, COMMIT)."""
    db = Database(url, pool_size=clients, max_overflow=0)
    latencies: list[float] = []
    errors: collections.Counter = collections.Counter()
    deadline = time.perf_counter() + duration

    async def worker(n: int) -> None:
        rng = random.Random(1000 + n)
        i = 0
        while time.perf_counter() < deadline:
            debit, credit = rng.sample(accounts, 2)
            amount = rng.randint(1, 10_000)
            started = time.perf_counter()
            try:
                async with db.unit_of_work() as session:
                    await service.post(
                        session,
                        [(debit, "D", amount), (credit, "C", amount)],
                        reference=f"svc-{n}-{i}",
                        reason="bench",
                    )
            except Exception as exc:  # noqa: BLE001 - counted, the benchmark goes on
                errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
            else:
                latencies.append(time.perf_counter() - started)
            i += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    await db.dispose()
    return _summary(len(latencies), elapsed, latencies, errors)


def _pgbench_init(server: str) -> str:
    url = plain_url(with_db(server, PGBENCH_DB))
    subprocess.run(["pgbench", "-i", "-s", "16", "-q", url], check=True, capture_output=True)
    return url


def _ledger_script(accounts: int) -> str:
    """A pgbench script posting between two random customer accounts: the same function with a C client."""
    path = Path(tempfile.gettempdir()) / "laura_bench_ledger.pgbench"
    path.write_text(
        f"\\set a random(0, {accounts - 1})\n\\set b random(0, {accounts - 1})\n"
        "SELECT (r.tx).id FROM ledger_post(gen_random_uuid(), 'c-' || gen_random_uuid(), 'bench', NULL, NULL,"
        " NULL, NULL, NULL, '{NULL,NULL}'::uuid[], ARRAY['C.' || :a, 'C.' || :b], '{D,C}'::text[],"
        " '{100,100}'::bigint[]) r;\n"
    )
    return str(path)


def _pgbench(url: str, *, clients: int, duration: int, script: str | None = None) -> tuple[int, float]:
    """One pgbench run, built-in tpcb-like or `script`: (transactions, seconds measured)."""
    workload = ["-M", "prepared", "-f", script] if script else []
    out = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", "2", "-T", str(duration), "-n", *workload, url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    done = int(re.search(r"actually processed: (\d+)", out).group(1))  # type: ignore[union-attr]
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return done, done / tps


async def _verify(url: str) -> dict:
    db = Database(url)
    try:
        async with db.sessionmaker() as session:
            report = await service.verify(session)
    finally:
        await db.dispose()
    return {"ok": report.ok, "transactions": report.transactions, "problems": report.problems[:5]}


async def main(args: argparse.Namespace) -> dict:
    load_before = os.getloadavg()[0]
    server = server_url()
    ledger_url = await recreate_database(server, LEDGER_DB)
    await recreate_database(server, PGBENCH_DB)
    await asyncio.to_thread(upgrade, ledger_url)
    customers = await _open_accounts(ledger_url, "C", args.accounts, hot=False, funded=True)
    hot = await _open_accounts(ledger_url, "H", args.hot, hot=True, funded=False)
    contended = await _open_accounts(ledger_url, "R", args.hot, hot=False, funded=True)

    pgbench_url = await asyncio.to_thread(_pgbench_init, server)
    ledger_script = _ledger_script(args.accounts)

    phases = {"random": customers, "hot": hot, "contended_unsharded": contended}
    measured: dict[str, list] = {name: [0.0, [], collections.Counter()] for name in phases}
    pgbench_done, pgbench_seconds = 0, 0.0
    c_client_done, c_client_seconds = 0, 0.0
    slice_seconds = max(1, round(args.duration / args.rounds))
    for r in range(args.rounds):
        for name, accounts in phases.items():
            elapsed, latencies, errors = await _raw_phase(
                ledger_url, accounts, clients=args.clients, duration=slice_seconds, tag=f"{name}{r}"
            )
            measured[name][0] += elapsed
            measured[name][1] += latencies
            measured[name][2] += errors
        done, seconds = await asyncio.to_thread(
            _pgbench, pgbench_url, clients=args.clients, duration=slice_seconds
        )
        pgbench_done, pgbench_seconds = pgbench_done + done, pgbench_seconds + seconds
        done, seconds = await asyncio.to_thread(
            _pgbench,
            plain_url(ledger_url),
            clients=args.clients,
            duration=slice_seconds,
            script=ledger_script,
        )
        c_client_done, c_client_seconds = c_client_done + done, c_client_seconds + seconds
    results = {name: _summary(len(m[1]), m[0], m[1], m[2]) for name, m in measured.items()}
    pgbench_tps = round(pgbench_done / pgbench_seconds, 1)
    c_client_tps = round(c_client_done / c_client_seconds, 1)
    service_path = await _service_phase(
        ledger_url, customers, clients=args.clients, duration=args.service_duration
    )
    return {
        "bench": "ledger",
        "clients": args.clients,
        "duration_s": slice_seconds * args.rounds,
        "rounds": args.rounds,
        "accounts": args.accounts,
        "hot_accounts": args.hot,
        **results,
        "random_c_client": {"tps": c_client_tps, "postings": c_client_done},
        "service_api": service_path,
        "pgbench_tpcb": {"tps": pgbench_tps, "transactions": pgbench_done},
        "ratio_random_vs_pgbench": round(results["random"]["tps"] / pgbench_tps, 2),
        "ratio_random_c_client_vs_pgbench": round(c_client_tps / pgbench_tps, 2),
        "ratio_hot_vs_pgbench": round(results["hot"]["tps"] / pgbench_tps, 2),
        "ratio_contended_vs_pgbench": round(results["contended_unsharded"]["tps"] / pgbench_tps, 2),
        "verify": await _verify(ledger_url),
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase, over all rounds")
    parser.add_argument("--clients", type=int, default=16, help="concurrent sessions")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved slices per phase")
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts in the random phase")
    parser.add_argument("--hot", type=int, default=10, help="accounts in the hot and contended phases")
    parser.add_argument(
        "--service-duration", type=float, default=5.0, help="seconds of the service-API phase"
    )
    try:
        from uvloop import run  # the lighter event loop leaves more of the shared CPUs to the server
    except ImportError:
        run = asyncio.run
    print(json.dumps(run(main(parser.parse_args()))))
