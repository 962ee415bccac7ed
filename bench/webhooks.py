"""Pix webhook intake: deliveries per second into `POST /webhooks/efi/pix`, latency, double applications;
prints one JSON line.

    python bench/webhooks.py [--charges 6000] [--duplicates 0.3] [--concurrency 32] [--warmup 300] [--workers 2]
                             [--load wrk|httpx] [--effect bench|deposit] [--confirm both|psp|off]
                             [--pg-only-seconds 15] [--pg-only-charges 100000]

Uses LAURA_DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres). Recreates the
scratch database laura_bench_webhooks (migrated to head), creates `charges` ACTIVE charges and starts the
real app in a subprocess (uvicorn, rate limits off). The PSP sandbox runs in a subprocess too: every charge is
created and paid there, so each notification is the PSP's own and confirmation finds it. With `--effect bench` (the default) the charges are of
the benchmark's purpose, whose effect (a SQL function, as every purpose's is) inserts one row per
application into `bench_pix_effects`. With `--effect deposit` they are bank deposits of 1 000 customers,
applied by the product's own `bank_deposit_credit`: a ledger posting, an audit row and an event each.

The deliveries are one Efí notification per charge plus `duplicates` as much again (30% of all deliveries
by default) re-delivering an earlier notification: half byte-identical (a PSP retry), half the same Pix in
other bytes (which only the e2eId unique index catches). They are shuffled, so a duplicate often races its
original, and `concurrency` senders post them as fast as the server answers: by default wrk (C, 2 threads,
each sending its round-robin share of the list exactly once, in order; bench/_wrk.py), or
httpx.AsyncClient with `--load httpx` (a Python client on the same machine takes CPU from the server).
With `--confirm both` (the default) this is done twice on the same database, each time on charges of its own:
first with `LAURA_PIX_WEBHOOK_CONFIRM=off`, then with `psp`, where each received Pix is read back from the
sandbox (`GET /v2/pix/{e2eId}`) before it is applied; `confirmation_cost` is the difference. The sandbox is a
Python process on the same cores, so its CPU (`psp_cpu_ms_per_delivery`) is taken from the server's; a real
PSP costs a network round trip instead. Afterwards SQL counts the Pix applied, and the double applications
(must be 0). For scale, the same
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
import re
import secrets
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import _wrk as wrk
import asyncpg
import httpx
from _common import free_port, fresh_database, server_url, start_app, wait_ready
from _pix import (
    BENCH_PURPOSE,
    PSP_CLIENT,
    add_bench_purpose,
    add_charges,
    deliveries,
    new_txid,
    paid_at_psp,
    start_sandbox,
)

DB_NAME = "laura_bench_webhooks"
PGBENCH = os.environ.get("PGBENCH", "/usr/bin/pgbench")
PURPOSES = {"bench": BENCH_PURPOSE, "deposit": "bank.deposit"}
"""The charges' purpose for each `--effect`: the bench's own (one row per application) or the bank's deposit
(`bank_deposit_credit`: a ledger posting, an audit row and an event, for one of DEPOSIT_CUSTOMERS customers)."""
DEPOSIT_CUSTOMERS = 1000
SECRET = secrets.token_urlsafe(32)
"""The webhook secret, configured explicitly like a deployment's `LAURA_PSP_WEBHOOK_SECRET`."""
PATH = f"/webhooks/efi/pix?hmac={SECRET}&ignorar=/pix"
PIX_KEY = "pix@laura.example"
MODES = {"both": ["off", "psp"], "psp": ["psp"], "off": ["off"]}


async def _prepare(server: str, total: int, effect: str) -> tuple[str, list[str]]:
    """A fresh database at head with `total` ACTIVE charges of the effect's purpose; returns their txids."""
    url = await fresh_database(server, DB_NAME)
    txids = [new_txid() for _ in range(total)]
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
            await add_bench_purpose(conn)
        await add_charges(conn, txids, PURPOSES[effect], owners)
    finally:
        await conn.close()
    return url, txids


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
    ' ARRAY[1000::bigint], ARRAY[now()], \'[{{"endToEndId": "pgbench", "valor": "10.00"}}]\','
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
                "-l",
                "--log-prefix",
                str(Path(logs) / "tx"),
                "-f",
                str(script),
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        match = re.search(r"tps = ([0-9.]+)", run.stdout)
        if match is None:
            raise RuntimeError(f"no tps in pgbench output: {run.stdout}")
        latencies = [
            int(line.split()[2]) / 1e6
            for log in Path(logs).glob("tx.*")
            for line in log.read_text().splitlines()
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


async def _measured(load: Load, bodies: list[bytes | None], pid: int, psp_pid: int) -> dict:
    """The load's figures for `bodies`, with the rate and the server's (and the sandbox's) CPU per request."""
    server_before, psp_before = _cpu_seconds(pid), _cpu_seconds(psp_pid)
    figures = await load.send(bodies)
    server_after, psp_after = _cpu_seconds(pid), _cpu_seconds(psp_pid)
    figures["requests_per_s"] = round(len(bodies) / figures["seconds"])
    figures["server_cpu_ms_per_request"] = _per_request(server_before, server_after, len(bodies))
    figures["psp_cpu_ms_per_request"] = _per_request(psp_before, psp_after, len(bodies))
    return figures


def _per_request(before: float | None, after: float | None, requests: int) -> float | None:
    return round((after - before) * 1000 / requests, 2) if before is not None and after else None


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


def _start_server(
    url: str, port: int, data_dir: str, workers: int, *, confirm: str, psp_url: str
) -> subprocess.Popen:
    pool = str(max(4, 32 // workers))
    return start_app(
        url,
        port,
        data_dir=data_dir,
        workers=workers,
        env={
            "LAURA_PSP_WEBHOOK_SECRET": SECRET,
            "LAURA_PIX_WEBHOOK_CONFIRM": confirm,
            "LAURA_PSP_BASE_URL": psp_url,
            "LAURA_PSP_CLIENT_ID": PSP_CLIENT[0],
            "LAURA_PSP_CLIENT_SECRET": PSP_CLIENT[1],
            "LAURA_DB_POOL_SIZE": pool,
            "LAURA_DB_MAX_OVERFLOW": "8",
            "LAURA_DB_STATEMENT_POOL_SIZE": pool,
        },
        uvicorn_args=("--loop", "uvloop", "--http", "httptools", "--timeout-keep-alive", "75"),
    )


async def _run_mode(
    args: argparse.Namespace,
    load: Load,
    url: str,
    data_dir: str,
    confirm: str,
    psp: subprocess.Popen,
    psp_url: str,
    entries: list[dict],
    *,
    baseline: bool,
) -> tuple[dict, dict | None]:
    """One server with `LAURA_PIX_WEBHOOK_CONFIRM=confirm`: the warm-up, then the measured deliveries (and
    `GET /health` for scale when `baseline`). Returns the delivery figures and the baseline's."""
    warmup, measured = entries[: args.warmup], entries[args.warmup :]
    process = _start_server(url, load.port, data_dir, args.workers, confirm=confirm, psp_url=psp_url)
    try:
        await wait_ready(f"http://127.0.0.1:{load.port}", process)
        await load.send(deliveries(warmup, args.duplicates))
        bodies: list[bytes | None] = list(deliveries(measured, args.duplicates))
        figures = await _measured(load, bodies, process.pid, psp.pid)
        health = (
            await _measured(load, [None] * (len(bodies) // 2), process.pid, psp.pid) if baseline else None
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    figures["deliveries"] = len(bodies)
    return figures, health


def _mode_figures(figures: dict) -> dict:
    return {
        "seconds": round(figures["seconds"], 3),
        "deliveries_per_s": figures["requests_per_s"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "mean_ms": figures.get("mean_ms"),
        "server_cpu_ms_per_delivery": figures["server_cpu_ms_per_request"],
        "psp_cpu_ms_per_delivery": figures["psp_cpu_ms_per_request"],
        "statuses": figures["statuses"],
        "p99_target_met": figures["p99_ms"] < 50,
    }


def _cost(modes: dict) -> dict | None:
    """What confirming with the PSP adds to the same deliveries without it."""
    if set(modes) != {"off", "psp"}:
        return None
    off, psp = modes["off"], modes["psp"]
    cpu = [off["server_cpu_ms_per_delivery"], psp["server_cpu_ms_per_delivery"]]
    return {
        "p50_ms_added": round(psp["p50_ms"] - off["p50_ms"], 2),
        "p99_ms_added": round(psp["p99_ms"] - off["p99_ms"], 2),
        "throughput_ratio": round(psp["deliveries_per_s"] / off["deliveries_per_s"], 3),
        "server_cpu_ms_added": round(cpu[1] - cpu[0], 2) if None not in cpu else None,
    }


async def main(args: argparse.Namespace) -> dict:
    load_before = round(os.getloadavg()[0], 2)
    server = server_url()
    modes = MODES[args.confirm]
    per_mode = args.charges + args.warmup
    url, txids = await _prepare(server, per_mode * len(modes), args.effect)
    kind = "wrk" if args.load == "wrk" and wrk.WRK is not None else "httpx"
    psp_port = free_port()
    psp_url = f"http://127.0.0.1:{psp_port}"
    psp = start_sandbox(psp_port)
    figures: dict[str, dict] = {}
    health: dict | None = None
    try:
        entries = await paid_at_psp(psp_url, psp, txids, pix_key=PIX_KEY)
        # One data dir for both servers, as for a restart: the master key that sealed the signing keys stays.
        with tempfile.TemporaryDirectory() as data_dir:
            for n, confirm in enumerate(modes):
                load = Load(kind, free_port(), args.concurrency)
                mine = entries[n * per_mode : (n + 1) * per_mode]
                result, baseline = await _run_mode(
                    args, load, url, data_dir, confirm, psp, psp_url, mine, baseline=n == 0
                )
                figures[confirm] = _mode_figures(result)
                health = health or baseline
    finally:
        psp.terminate()
        psp.wait(timeout=30)
    counts = await _counts(url, args.effect)
    await _add_pg_only_charges(url, args.pg_only_charges, args.effect)
    pg_only = _pg_only(url, args.pg_only_charges, args.concurrency, args.pg_only_seconds)
    assert health is not None
    return {
        "bench": "pix_webhooks",
        "effect": args.effect,
        "load_generator": kind,
        "deliveries_per_mode": result["deliveries"],
        "duplicate_share": args.duplicates,
        "concurrency": args.concurrency,
        "server_workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average_1m": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
        "confirm": figures,
        "confirmation_cost": _cost(figures),
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
        and all(_answered_ok(mode["statuses"]) for mode in figures.values()),
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
    parser.add_argument(
        "--confirm",
        choices=sorted(MODES),
        default="both",
        help="LAURA_PIX_WEBHOOK_CONFIRM of the server: both runs off then psp, on charges of their own",
    )
    parser.add_argument(
        "--pg-only-seconds", type=int, default=15, help="pgbench's run of the statement alone"
    )
    parser.add_argument("--pg-only-charges", type=int, default=100_000)
    parser.add_argument(
        "--load", choices=["wrk", "httpx"], default="wrk", help="wrk when installed, else httpx"
    )
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
