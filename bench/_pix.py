"""The Pix pieces the webhook benches share: the PSP sandbox as a subprocess, charges created and paid there,
the bench's own charge purpose (an effect that books nothing), and Efí notifications built from the PSP's
own entries.

bench/webhooks.py measures the intake with them; bench/ride_payments.py uses them for the intake-alone run
it reports beside the ride flow, so both measure the same thing the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import string
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from _common import ROOT

PSP_CLIENT = ("laura-bench", "laura-bench-secret")
AMOUNT = "10.00"
BENCH_PURPOSE = "bench.webhook"
_ALNUM = string.ascii_letters + string.digits


def psp_env(psp_url: str, pix_key: str, webhook_secret: str) -> dict[str, str]:
    """The app's settings for the sandbox at `psp_url`: its base, the bench's client, our key and the
    webhook's secret."""
    return {
        "LAURA_PSP_WEBHOOK_SECRET": webhook_secret,
        "LAURA_PSP_BASE_URL": psp_url,
        "LAURA_PSP_CLIENT_ID": PSP_CLIENT[0],
        "LAURA_PSP_CLIENT_SECRET": PSP_CLIENT[1],
        "LAURA_PSP_PIX_KEY": pix_key,
    }


def new_txid() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(32))


def start_sandbox(port: int) -> subprocess.Popen:
    """`laura psp-sandbox` on 127.0.0.1:`port`, with the bench's client credentials."""
    env = {**os.environ, "LAURA_PSP_CLIENT_ID": PSP_CLIENT[0], "LAURA_PSP_CLIENT_SECRET": PSP_CLIENT[1]}
    command = [sys.executable, "-m", "laura", "psp-sandbox", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL)


async def sandbox_token(http: httpx.AsyncClient, process: subprocess.Popen) -> str:
    """An OAuth token from the sandbox, waiting for it to start (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the PSP sandbox exited")
        try:
            answer = await http.post(
                "/oauth/token", json={"grant_type": "client_credentials"}, auth=PSP_CLIENT
            )
            return str(answer.json()["access_token"])
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise RuntimeError("the PSP sandbox did not start within 60 s")


async def paid_at_psp(
    psp_url: str, process: subprocess.Popen, txids: list[str], *, pix_key: str
) -> list[dict]:
    """Each charge created for `pix_key` and paid at the sandbox; returns the PSP's own notification entries,
    in the order of `txids`. The sandbox notifies whatever webhook `pix_key` has: give a key with none when
    only the bench is to post the notifications."""
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=psp_url, timeout=30, limits=limits) as http:
        auth = {"Authorization": f"Bearer {await sandbox_token(http, process)}"}
        gate = asyncio.Semaphore(16)

        async def pay(txid: str) -> dict:
            charge = {"calendario": {"expiracao": 3600}, "valor": {"original": AMOUNT}, "chave": pix_key}
            async with gate:
                (await http.put(f"/v2/cob/{txid}", json=charge, headers=auth)).raise_for_status()
                paid = await http.post(f"/sandbox/cob/{txid}/pay")
            paid.raise_for_status()
            return dict(paid.json())

        return list(await asyncio.gather(*(pay(txid) for txid in txids)))


async def add_bench_purpose(conn: asyncpg.Connection) -> None:
    """The bench's purpose, whose effect (a SQL function, as every purpose's is) inserts one row per
    application into `bench_pix_effects` and books nothing."""
    await conn.execute("CREATE TABLE bench_pix_effects (id bigserial PRIMARY KEY, txid text NOT NULL)")
    await conn.execute(
        "CREATE FUNCTION bench_pix_effect(p_charge pix_charges, p_pix jsonb, p_context jsonb) RETURNS void"
        " LANGUAGE sql AS $$ INSERT INTO bench_pix_effects (txid) VALUES (p_charge.txid) $$"
    )
    await conn.execute(
        "INSERT INTO pix_charge_purposes (purpose, effect) VALUES ($1, 'bench_pix_effect(pix_charges, jsonb, jsonb)')",
        BENCH_PURPOSE,
    )


async def add_charges(
    conn: asyncpg.Connection, txids: list[str], purpose: str, owners: list[uuid.UUID]
) -> None:
    """ACTIVE charges of `purpose` for R$ 10.00, dealt to `owners` in turn, expiring in an hour."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    await conn.copy_records_to_table(
        "pix_charges",
        records=[
            (
                txid,
                purpose,
                str(uuid.uuid4()),
                owners[n % len(owners)],
                1000,
                "ACTIVE",
                "00020101bench",
                expires,
            )
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


def deliveries(entries: list[dict], duplicate_share: float) -> list[bytes]:
    """One notification per paid charge, plus duplicates making `duplicate_share` of the total (half
    byte-identical, half the same Pix in other bytes), shuffled."""
    originals = [{"pix": [entry]} for entry in entries]
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
