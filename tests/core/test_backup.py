"""`laura backup` and `laura restore` as an operator runs them: a database with Pix transfers, rides paid
through the PSP sandbox and payout requests is dumped, restored into a fresh database on the same server
and into a fresh server of its own, and in both `ledger verify` and `audit verify` pass and every balance and row count is the one backed up. The
durations and sizes are printed (docs/operations.md "Backup and restore" quotes them)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.bank.support import funded_customer
from tests.conftest import scratch_database
from tests.mobility.finance.support import paid_by_webhook
from tests.mobility.payouts.support import funded_driver, payout
from tests.pix.conftest import settings  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]

FIGURES = {
    "balances": "SELECT a.code, b.debits_posted, b.credits_posted, b.debits_pending, b.credits_pending"
    " FROM ledger_accounts a JOIN ledger_account_balances b ON b.account_id = a.id ORDER BY a.code",
    "transfers": "SELECT id, status, amount_cents FROM transfers ORDER BY id",
    "rides": "SELECT id, status, final_fare, paid_at FROM rides ORDER BY id",
    "payouts": "SELECT id, status, amount_cents FROM payouts ORDER BY id",
    "entries": "SELECT count(*), sum(amount) FROM ledger_entries",
    "audit": "SELECT count(*), max(id) FROM audit_logs",
}


def figures(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(query).fetchall() for name, query in FIGURES.items()}


def laura(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process, configured by LAURA_DATABASE_URL alone (as an operator runs it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAURA_")}
    env.update(LAURA_DATABASE_URL=database_url, LAURA_DATA_DIR=str(cwd), PYTHONPATH=str(ROOT), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "laura", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def fresh_database(pg_server_url: str) -> Iterator[str]:
    """An empty database on the test server, as a new server's would be before a restore."""
    with scratch_database(pg_server_url, "laura_restore") as url:
        yield url


@pytest.fixture
def fresh_server() -> Iterator[str]:
    """A PostgreSQL server of its own, new and empty (pgserver's, PostgreSQL 16): a restore onto another
    machine, and from the test server's major version when that is older. Its data dir is beside the
    embedded test server's, not in pytest's tmp dirs (mode 700: the server's own user, when run as root,
    could not reach it to stop)."""
    import pgserver

    pgdata = ROOT / ".laura" / f"fresh-server-{uuid.uuid4().hex[:12]}"
    pgdata.parent.mkdir(exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


async def _a_day_of_business(app, client: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
    """Pix transfers between customers, two rides paid by Pix, and a driver's payout request."""
    app.state.settings = app.state.settings.model_copy(update={"driver_earnings_hold_hours": 0})
    _sender, headers = await funded_customer(app, client, Decimal("500.00"))
    _recipient, r_headers = await funded_customer(app, client)
    key = f"pix-{uuid.uuid4().hex[:8]}@example.com"
    made = await client.post("/api/pix-keys", json={"type": "EMAIL", "key": key}, headers=r_headers)
    assert made.status_code == 201, made.text
    for amount in (40.0, 12.5, 7.25):
        sent = await client.post(
            "/api/transfers/pix", json={"pixKey": key, "amount": amount}, headers=headers
        )
        assert sent.status_code == 201 and sent.json()["status"] == "COMPLETED", sent.text
    for _ in range(2):
        await paid_by_webhook(app, client, control)
    handle = await funded_driver(app, client, "80.00")
    asked = await payout(client, handle, "30.00")
    assert asked.status_code == 201, asked.text


async def test_a_backup_restored_into_a_fresh_database_and_server_verifies_with_the_same_balances(
    app,
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
    database_url: str,
    fresh_database: str,
    fresh_server: str,
    tmp_path: Path,
) -> None:
    await _a_day_of_business(app, client, control)
    before = figures(database_url)
    assert len(before["transfers"]) >= 3 and len(before["rides"]) == 2 and len(before["payouts"]) == 1
    dump = tmp_path / "laura.dump"

    started = time.perf_counter()
    backed_up = laura(database_url, tmp_path, "backup", str(dump))
    backup_seconds = time.perf_counter() - started
    assert backed_up.returncode == 0, backed_up.stderr
    assert dump.read_bytes().startswith(b"PGDMP")

    restore_seconds = {}
    for where, target in (("same server", fresh_database), ("fresh server", fresh_server)):
        started = time.perf_counter()
        restored = laura(target, tmp_path, "restore", str(dump))
        restore_seconds[where] = round(time.perf_counter() - started, 2)
        assert restored.returncode == 0, restored.stderr

        ledger = laura(target, tmp_path, "ledger", "verify")
        assert ledger.returncode == 0 and "ledger sound" in ledger.stderr, ledger.stderr
        audit = laura(target, tmp_path, "audit", "verify")
        assert audit.returncode == 0 and "audit chain intact" in audit.stderr, audit.stderr
        assert figures(target) == before, where
    with psycopg.connect(database_url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    print(
        f"\nbackup: database {size / 1e6:.1f} MB, dump {dump.stat().st_size / 1e6:.2f} MB,"
        f" backup {backup_seconds:.2f} s, restore {restore_seconds} (each with the CLI's start-up)"
    )


def test_backup_keeps_an_existing_file_and_restore_refuses_a_database_in_use(
    database_url: str, fresh_database: str, tmp_path: Path
) -> None:
    dump = tmp_path / "kept.dump"
    dump.write_bytes(b"last night's backup")

    refused = laura(database_url, tmp_path, "backup", str(dump))
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert dump.read_bytes() == b"last night's backup"
    assert not (tmp_path / "kept.dump.partial").exists()

    not_a_dump = laura(fresh_database, tmp_path, "restore", str(dump))
    assert not_a_dump.returncode == 1 and "not a pg_dump custom-format file" in not_a_dump.stderr

    forced = laura(database_url, tmp_path, "backup", "--force", str(dump))
    assert forced.returncode == 0, forced.stderr
    in_use = laura(database_url, tmp_path, "restore", str(dump))
    assert in_use.returncode == 1 and "--clean" in in_use.stderr

    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE leftover (id int)")
    cleaned = laura(fresh_database, tmp_path, "restore", "--clean", str(dump))
    assert cleaned.returncode == 0, cleaned.stderr
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT to_regclass('leftover')").fetchone() == (None,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() is not None


def test_a_dump_older_than_the_code_is_restored_and_named_for_laura_migrate(
    pg_server_url: str, fresh_database: str, tmp_path: Path
) -> None:
    from alembic.script import ScriptDirectory

    from laura.core.migrations import alembic_config, head_revision, upgrade

    previous = (
        ScriptDirectory.from_config(alembic_config(pg_server_url)).get_revision(head_revision()).down_revision
    )
    assert isinstance(previous, str)
    with scratch_database(pg_server_url, "laura_older") as older:
        upgrade(older, previous)
        assert laura(older, tmp_path, "backup", str(tmp_path / "older.dump")).returncode == 0

    restored = laura(fresh_database, tmp_path, "restore", str(tmp_path / "older.dump"))

    assert restored.returncode == 3 and "run `laura migrate`" in restored.stderr, restored.stderr
    with psycopg.connect(fresh_database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (previous,)
    assert laura(fresh_database, tmp_path, "migrate").returncode == 0
