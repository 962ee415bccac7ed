"""After a whole card flow (issue, virtual card with a replay, list, block, unblock, lost and replaced,
reveal, key rotation) neither a card number nor its CVV is anywhere in the database dump or the logs: not
in clear, not grouped, not hex-encoded inside a bytea, and no CVV next to a `cvv` key."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from laura.bank.cards.crypto import grouped
from laura.bank.cards.keys import rotate
from laura.settings import Settings
from tests.bank.cards.support import enrolled, next_code, number_of, physical, reveal, virtual
from tests.helpers import auth_headers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"log_level": "DEBUG", "access_log": True})


def _pg_dump(major: int) -> str:
    """A pg_dump at least as new as the server: Debian's of that major version, the embedded server's own
    (pgserver bundles PostgreSQL 16, newer than Debian 12's 15), else the one on PATH if new enough."""
    import pgserver

    candidates = [
        Path(f"/usr/lib/postgresql/{major}/bin/pg_dump"),
        Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump",
        Path(shutil.which("pg_dump") or "/nonexistent"),
    ]
    for candidate in candidates:
        if candidate.exists() and _major_of(candidate) >= major:
            return str(candidate)
    pytest.skip(f"no pg_dump for PostgreSQL {major}")


def _major_of(pg_dump: Path) -> int:
    """`pg_dump (PostgreSQL) 16.2` -> 16."""
    printed = subprocess.run([str(pg_dump), "--version"], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"(\d+)\.\d+", printed).group(1))  # type: ignore[union-attr]


async def _dump(app, database_url: str) -> str:
    async with app.state.db.engine.connect() as conn:
        major = int(await conn.scalar(text("SHOW server_version_num"))) // 10000
    dumping = await asyncio.create_subprocess_exec(
        _pg_dump(major), "--data-only", "--no-owner", database_url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await dumping.communicate()
    assert dumping.returncode == 0, "pg_dump failed (its stderr is above)"
    dump = out.decode()
    assert "COPY public.cards" in dump
    return dump


def _leaks(haystack: str, number: str, cvv: str) -> list[str]:
    found = [
        form
        for form in (number, grouped(number), number.encode().hex(), grouped(number).encode().hex())
        if form in haystack
    ]
    if re.search(rf"cvv\W{{1,4}}{cvv}\b", haystack, re.IGNORECASE) or f"{number}{cvv}" in haystack:
        found.append(f"cvv {cvv}")
    return found


async def test_no_number_or_cvv_in_the_database_dump_or_the_logs(app, client, database_url, capsys):
    _, headers = await auth_headers(client)
    card = await physical(client, headers)
    key = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    body = {"limit": 300.0, "expiresAt": "2030-01-31T23:59:59Z", "description": "Online"}
    made = (await client.post("/api/cards/virtual", json=body, headers=key)).json()
    assert (await client.post("/api/cards/virtual", json=body, headers=key)).status_code == 201
    assert (await virtual(client, headers, limit=0)).status_code == 422
    await client.get("/api/cards", headers=headers)
    for action, reason in (("BLOCK", "Segurança"), ("UNBLOCK", None), ("BLOCK", "LOST")):
        answer = await client.post(
            f"/api/cards/{card['id']}/block", json={"action": action, "reason": reason}, headers=headers
        )
        assert answer.status_code == 200
    replacement = answer.json()["replacementCardId"]
    totp = await enrolled(client, headers)
    shown = await reveal(client, headers, made["id"], next_code(totp))
    assert shown.status_code == 200 and shown.json()["number"] == made["number"]
    await rotate(app.state.db, app.state.card_issuer.keyring, batch=2)
    secrets = [await number_of(app, card["id"]), await number_of(app, replacement)]
    secrets.append((made["number"].replace(" ", ""), made["cvv"]))

    dump = await _dump(app, database_url)
    logged = capsys.readouterr()

    assert "CARD_DETAILS_REVEALED" in dump and "card.lost" in dump and "request" in logged.out
    for number, cvv in secrets:
        assert number[-4:] in dump  # the last four digits are stored in clear, and were searched beside
        assert _leaks(dump, number, cvv) == [], f"the dump holds card ...{number[-4:]}"
        assert _leaks(logged.out + logged.err, number, cvv) == [], f"a log line holds card ...{number[-4:]}"
    async with app.state.db.engine.connect() as conn:
        stored = await conn.scalar(
            text(
                "SELECT string_agg(x, ' ') FROM (SELECT a::text AS x FROM audit_logs a UNION ALL"
                " SELECT o::text FROM outbox o UNION ALL SELECT i::text FROM idempotency_keys i) t"
            )
        )
    for number, cvv in secrets:
        assert _leaks(stored, number, cvv) == []
