"""Pix webhook intake: deliveries per second into `POST /webhooks/efi/pix`, latency, double applications;
prints one JSON line.

    python bench/webhooks.py [--charges 6000] [--duplicates 0.3] [--concurrency 32] [--warmup 300] [--workers 2]
                             [--load wrk|httpx] [--effect bench|deposit] [--pg-only-seconds 15]
                             [--pg-only-charges 100000]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres). Recreates the
scratch database laura_bench_webhooks (migrated to head), creates `charges` ACTIVE charges and starts the
real app in a subprocess (uvicorn, rate limits off). With `--effect bench` (the default) the charges are of
the benchmark's purpose, whose effect (a SQL function, as every purpose's is) inserts one row per
application into `bench_pix_effects`. With `--effect deposit` they are bank deposits of 1 000 customers,
applied by the product's own `bank_deposit_credit`: a ledger posting, an audit row and an event each.

The deliveries are one Efí notification per charge plus `duplicates` as much again (30% of all deliveries
by default) re-delivering an earlier notification: half byte-identical (a PSP retry), half the same Pix in
other bytes (which only the e2eId unique index catches). They are shuffled, so a duplicate often races its
original, and `concurrency` senders post them as fast as the server answers: by default wrk (C, 2 threads,
each sending its round-robin share of the list exactly once, in order; bench/_wrk.py), or
httpx.AsyncClient with `--load httpx` (a Python client on the same machine takes CPU from the server).
Afterwards SQL counts the Pix applied, and the double applications (must be 0). For scale, the same
load generator then sends `GET /health` to the same server at the same concurrency
(`baseline_get_health`): what the framework, the middlewares and the machine cost before any Pix work.
Last, pgbench calls the intake's one statement (`pix_ingest_delivery`) directly at the same concurrency
(`pg_only_ingest`): what the database alone gives on this machine, the ceiling of the HTTP figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import statistics
import string
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _wrk as wrk
import asyncpg
import httpx
from _common import free_port, fresh_database, server_url, start_app, wait_ready

DB_NAME = "laura_bench_webhooks"
PGBENCH = os.environ.get("PGBENCH", "/usr/bin/pgbench")
PURPOSES = {"bench": "bench.webhook", "deposit": "bank.deposit"}
"""The charges' purpose for each `--effect`: the bench's own (one row per application) or the bank's deposit
(`bank_deposit_credit`: a ledger posting, an audit row and an event, for one of DEPOSIT_CUSTOMERS customers)."""
DEPOSIT_CUSTOMERS = 1000
SECRET = "bench-webhook-secret"
PATH = f"/webhooks/efi/pix?hmac={SECRET}&ignorar=/pix"
AMOUNT = "10.00"
_ALNUM = string.ascii_letters + string.digits


async def _prepare(server: str, total: int, effect: str) -> tuple[str, list[str]]:
    """A fresh database at head with `total` ACTIVE charges of the effect's purpose; returns their txids."""
    url = await fresh_database(server, DB_NAME)
    txids = ["".join(secrets.choice(_ALNUM) for _ in range(32)) for _ in range(total)]
    owners = [uuid.uuid4() for _ in range(DEPOSIT_CUSTOMERS if effect == "deposit" else 1)]
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "users",
            records=[(owner, f"bench-{owner.hex}@example.com", "x", "Bench", "customer") for owner in owners],
            columns=["id", "email", "password_hash", "name", "role"],
        )
        if effect == "deposit":
            await conn.execute(
                "INSERT INTO ledger_accounts (id, code, name, type, owner_id, debits_must_not_exceed_credits)"
                " SELECT uuid7(), '2101.' || u.id, 'Bench customer', 'LIABILITY', u.id, true FROM users u"
            )
        else:
            await conn.execute("CREATE TABLE bench_pix_effects (id bigserial PRIMARY KEY, txid text NOT NULL)")
            await conn.execute(
                "CREATE FUNCTION bench_pix_effect(p_charge pix_charges, p_pix jsonb, p_context jsonb) RETURNS void"
                " LANGUAGE sql AS $$ INSERT INTO bench_pix_effects (txid) VALUES (p_charge.txid) $$"
            )
            await conn.execute(
                "INSERT INTO pix_charge_purposes (purpose, effect)"
                " VALUES ($1, 'bench_pix_effect(pix_charges, jsonb, jsonb)')",
                PURPOSES[effect],
            )
        expires = datetime.now(UTC) + timedelta(hours=1)
        await conn.copy_records_to_table(
            "pix_charges",
            records=[
                (txid, PURPOSES[effect], str(uuid.uuid4()), owners[n % len(owners)], 1000, "ACTIVE",
                 "00020101bench", expires)
                for n, txid in enumerate(txids)
            ],
            columns=[
                "txid",
                "purpose",
                "entity_id",
                "owner_id",
                "amount_cents",
                "status",
                "pix_copia_e_cola",
                "expires_at",
            ],
        )
    finally:
        await conn.close()
    return url, txids


def _notification(txid: str) -> dict:
    suffix = "".join(secrets.choice(_ALNUM) for _ in range(11))
    return {
        "pix": [
            {
                "endToEndId": f"E09089356{datetime.now(UTC):%Y%m%d%H%M}{suffix}",
                "txid": txid,
                "chave": "pix@laura.example",
                "valor": AMOUNT,
                "horario": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
        ]
    }


def _deliveries(txids: list[str], duplicate_share: float) -> list[bytes]:
    """One notification per charge, plus duplicates making `duplicate_share` of the total, shuffled."""
    originals = [_notification(txid) for txid in txids]
    bodies = [json.dumps(n).encode() for n in originals]
    duplicates = round(len(originals) * duplicate_share / (1 - duplicate_share))
    for n in range(duplicates):
        picked = random.randrange(len(originals))
        if n % 2:
            bodies.append(bodies[picked])
        else:
            bodies.append(json.dumps({**originals[picked], "retry": n}, indent=1).encode())
    random.shuffle(bodies)
    return bodies


async def _send_all(
    base: str, bodies: list[bytes | None], concurrency: int
) -> tuple[list[float], dict[int, int], float]:
    """Post every body with `concurrency` senders (None: GET /health instead, the baseline); returns
    latencies (s), status counts (0: transport error, then sent again), wall time."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def sender() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    if body is None:
                        response = await http.get("/health")
                    else:
                        response = await http.post(
                            PATH, content=body, headers={"content-type": "application/json"}
                        )
                    status = response.status_code
                except httpx.TransportError:
                    # Counted, and sent again as a PSP would (the retry is one more duplicate).
                    status = 0
                    queue.put_nowait(body)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return latencies, statuses, time.perf_counter() - started


class Load:
    """One way of sending the deliveries (or the baseline's GETs): `send` returns the load's figures."""

    def __init__(self, kind: str, port: int, concurrency: int) -> None:
        self.kind, self.port, self.concurrency = kind, port, concurrency

    async def send(self, bodies: list[bytes | None]) -> dict:
        """Figures: requests, seconds, p50_ms, p99_ms, mean_ms (httpx only), statuses."""
        if self.kind == "wrk":
            return self._wrk(bodies)
        latencies, statuses, elapsed = await _send_all(
            f"http://127.0.0.1:{self.port}", bodies, self.concurrency
        )
        return {
            "requests": len(latencies),
            "seconds": elapsed,
            "p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
            "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
            "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
        }

    def _wrk(self, bodies: list[bytes | None]) -> dict:
        headers = {"Content-Type": "application/json"}
        requests = [
            wrk.raw_request("GET", "/health", port=self.port)
            if body is None
            else wrk.raw_request("POST", PATH, port=self.port, body=body, headers=headers)
            for body in bodies
        ]
        limit = max(60, len(requests) // 20)
        summary = wrk.send_once(
            requests, port=self.port, threads=2, connections=self.concurrency, limit_s=limit
        )
        errors = {
            "non2xx": summary["non2xx"],
            "socket_errors": summary["socket_errors"],
            "stray": summary["stray"],
        }
        return {
            "requests": summary["requests"],
            "seconds": summary["duration_us"] / 1e6,
            "p50_ms": round(summary["p50_us"] / 1000, 2),
            "p99_ms": round(summary["p99_us"] / 1000, 2),
            "statuses": {"200": summary["requests"] - summary["non2xx"] - summary["stray"], **errors},
        }


_PG_ONLY_PREFIX = "pgonly"
_PG_ONLY_SCRIPT = (
    "\\set n random(1, {charges})\n"
    "SELECT delivery_id FROM pix_ingest_delivery("
    "md5(random()::text || clock_timestamp()::text), '\\x7b7d'::bytea, 'hmac', 1, NULL,"
    " ARRAY['{prefix}' || lpad(:n::text, 26, '0')], ARRAY['E' || md5(random()::text || clock_timestamp()::text)],"
    " ARRAY[1000::bigint], ARRAY[now()], '[{{\"endToEndId\": \"pgbench\", \"valor\": \"10.00\"}}]',"
    " jsonb_build_object('chain', (random() * 63)::int, 'ip', NULL, 'user_agent', NULL, 'request_id', NULL));\n"
)
"""A delivery's database work alone: `pix_ingest_delivery` with one received Pix for a random charge of its
own set (a few are paid twice and take the `flagged` path) and a random audit chain, as the API sends, for
pgbench to call with no HTTP, Python or driver in front. JSON is written with a space after each colon, which pgbench would read as a variable."""


async def _add_pg_only_charges(url: str, charges: int, effect: str) -> None:
    """The charges pgbench pays, of the same purpose, spread over the same owners as the HTTP run's."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "WITH o AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS c FROM users)"
            " INSERT INTO pix_charges (txid, purpose, entity_id, owner_id, amount_cents, status, pix_copia_e_cola,"
            " expires_at)"
            " SELECT $1 || lpad(n::text, 26, '0'), $2, gen_random_uuid()::text, o.id, 1000, 'ACTIVE',"
            " '00020101bench', now() + interval '1 hour' FROM generate_series(1, $3) n JOIN o ON o.k = n % o.c",
            _PG_ONLY_PREFIX,
            PURPOSES[effect],
            charges,
        )
        await conn.execute("VACUUM ANALYZE pix_charges")
    finally:
        await conn.close()


def _pg_only(url: str, charges: int, clients: int, seconds: int) -> dict:
    """pgbench calling the intake's one statement directly, at the same concurrency: what the database alone
    gives on this machine (rate and latency), the ceiling of the HTTP figures."""
    with tempfile.TemporaryDirectory() as logs:
        script = Path(logs) / "ingest.sql"
        script.write_text(_PG_ONLY_SCRIPT.format(charges=charges, prefix=_PG_ONLY_PREFIX))
        run = subprocess.run(
            [PGBENCH, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds), "-l",
             "--log-prefix", str(Path(logs) / "tx"), "-f", str(script), url],
            check=True, capture_output=True, text=True,
        )
        match = re.search(r"tps = ([0-9.]+)", run.stdout)
        if match is None:
            raise RuntimeError(f"no tps in pgbench output: {run.stdout}")
        latencies = [
            int(line.split()[2]) / 1e6 for log in Path(logs).glob("tx.*") for line in log.read_text().splitlines()
        ]
    return {
        "deliveries_per_s": round(float(match.group(1))),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
    }


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a process and its direct children (uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        return None
    return total


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measured(load: Load, bodies: list[bytes | None], pid: int) -> dict:
    """The load's figures for `bodies`, with the rate and the server's CPU per request."""
    cpu_before = _cpu_seconds(pid)
    figures = await load.send(bodies)
    cpu_after = _cpu_seconds(pid)
    figures["requests_per_s"] = round(len(bodies) / figures["seconds"])
    figures["server_cpu_ms_per_request"] = (
        round((cpu_after - cpu_before) * 1000 / len(bodies), 2)
        if cpu_before is not None and cpu_after
        else None
    )
    return figures


_EFFECT_ROWS = {
    "bench": "SELECT txid AS applied FROM bench_pix_effects",
    "deposit": "SELECT reference AS applied FROM ledger_transactions WHERE reason = 'PIX_DEPOSIT'",
}
"""One row per application of a Pix by the effect: the bench's own row, or the deposit's ledger posting."""


async def _counts(url: str, effect: str) -> dict:
    conn = await asyncpg.connect(url)
    try:
        applications = f"SELECT count(*), count(*) - count(DISTINCT applied) FROM ({_EFFECT_ROWS[effect]}) a"
        effects, doubles = await conn.fetchrow(applications)
        return {
            "stored_deliveries": await conn.fetchval("SELECT count(*) FROM webhook_deliveries"),
            "pix_applied": await conn.fetchval(
                "SELECT count(*) FROM financial_events WHERE status = 'applied'"
            ),
            "charges_paid": await conn.fetchval("SELECT count(*) FROM pix_charges WHERE status = 'PAID'"),
            "handler_effects": effects,
            "double_applications": doubles,
        }
    finally:
        await conn.close()


def _answered_ok(statuses: dict) -> bool:
    """Every delivery answered 200 (httpx: transport errors were sent again and still count as answered)."""
    if "non2xx" in statuses:
        return statuses["non2xx"] == statuses["socket_errors"] == statuses["stray"] == 0
    return set(statuses) <= {"0", "200"}


def _start_server(url: str, port: int, data_dir: str, workers: int) -> subprocess.Popen:
    pool = str(max(4, 32 // workers))
    return start_app(
        url,
        port,
        data_dir=data_dir,
        workers=workers,
        env={
            "LAURA_PSP_WEBHOOK_SECRET": SECRET,
            "LAURA_DB_POOL_SIZE": pool,
            "LAURA_DB_MAX_OVERFLOW": "8",
            "LAURA_DB_STATEMENT_POOL_SIZE": pool,
        },
        uvicorn_args=("--loop", "uvloop", "--http", "httptools", "--timeout-keep-alive", "75"),
    )


async def main(args: argparse.Namespace) -> dict:
    load_before = round(os.getloadavg()[0], 2)
    server = server_url()
    url, txids = await _prepare(server, args.charges + args.warmup, args.effect)
    warmup, measured = txids[: args.warmup], txids[args.warmup :]
    port = free_port()
    kind = "wrk" if args.load == "wrk" and wrk.WRK is not None else "httpx"
    load = Load(kind, port, args.concurrency)
    with tempfile.TemporaryDirectory() as data_dir:
        process = _start_server(url, port, data_dir, args.workers)
        try:
            await wait_ready(f"http://127.0.0.1:{port}", process)
            await load.send(_deliveries(warmup, args.duplicates))
            bodies: list[bytes | None] = list(_deliveries(measured, args.duplicates))
            figures = await _measured(load, bodies, process.pid)
            health = await _measured(load, [None] * (len(bodies) // 2), process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
    counts = await _counts(url, args.effect)
    await _add_pg_only_charges(url, args.pg_only_charges, args.effect)
    pg_only = _pg_only(url, args.pg_only_charges, args.concurrency, args.pg_only_seconds)
    return {
        "bench": "pix_webhooks",
        "effect": args.effect,
        "load_generator": kind,
        "deliveries": len(bodies),
        "duplicate_share": args.duplicates,
        "concurrency": args.concurrency,
        "server_workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average_1m": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
        "seconds": round(figures["seconds"], 3),
        "deliveries_per_s": figures["requests_per_s"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "mean_ms": figures.get("mean_ms"),
        "server_cpu_ms_per_delivery": figures["server_cpu_ms_per_request"],
        "statuses": figures["statuses"],
        **counts,
        "expected_applied": len(txids),
        "p99_target_ms": 50,
        "baseline_get_health": {
            key: health.get(key)
            for key in ("requests_per_s", "p50_ms", "p99_ms", "server_cpu_ms_per_request")
        },
        "pg_only_ingest": pg_only,
        "ok": counts["double_applications"] == 0
        and counts["pix_applied"] == len(txids) == counts["charges_paid"] == counts["handler_effects"]
        and _answered_ok(figures["statuses"])
        and figures["p99_ms"] < 50,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charges", type=int, default=6000)
    parser.add_argument("--duplicates", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of the server")
    parser.add_argument(
        "--effect", choices=sorted(PURPOSES), default="bench", help="the paid charges' effect (see PURPOSES)"
    )
    parser.add_argument("--pg-only-seconds", type=int, default=15, help="pgbench's run of the statement alone")
    parser.add_argument("--pg-only-charges", type=int, default=100_000)
    parser.add_argument(
        "--load", choices=["wrk", "httpx"], default="wrk", help="wrk when installed, else httpx"
    )
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
