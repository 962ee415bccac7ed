"""The audit log is append-only and hash-chained; verification names the first row changed behind its back."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from laura.audit.service import verify_chain
from tests.helpers import register


async def _register_some(client, n: int = 4) -> None:
    for _ in range(n):
        await register(client)


async def test_rows_carry_request_context_and_chain_verifies(client, app):
    response = await client.post(
        "/auth/register",
        json={"email": "ctx@example.com", "password": "s3cret-passw0rd", "name": "Ctx"},
        headers={"X-Request-Id": "req-audit-1", "User-Agent": "pytest-agent"},
    )
    assert response.status_code == 201
    await _register_some(client)
    async with app.state.db.sessionmaker() as session:
        row = (
            await session.execute(
                text(
                    "SELECT request_id, user_agent FROM audit_logs WHERE action = 'USER_REGISTERED'"
                    " ORDER BY id LIMIT 1"
                )
            )
        ).one()
        assert row.request_id == "req-audit-1" and row.user_agent == "pytest-agent"
        first_prev = await session.scalar(
            text(
                "SELECT prev_hash FROM audit_logs WHERE chain = (SELECT chain FROM audit_logs ORDER BY id LIMIT 1)"
                " ORDER BY id LIMIT 1"
            )
        )
        total = await session.scalar(text("SELECT count(*) FROM audit_logs"))
        report = await verify_chain(session)
    assert first_prev is None
    assert report.ok and report.rows == total >= 5


async def test_update_delete_and_truncate_are_refused(client, app):
    await _register_some(client, 1)
    for statement in ("UPDATE audit_logs SET action = 'X'", "DELETE FROM audit_logs", "TRUNCATE audit_logs"):
        async with app.state.db.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


async def test_verify_names_the_first_tampered_row(client, app, database_url):
    await _register_some(client, 5)
    async with app.state.db.sessionmaker() as session:
        ids = [r for (r,) in await session.execute(text("SELECT id FROM audit_logs ORDER BY id"))]
        await session.execute(text("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_immutable"))
        await session.execute(
            text('UPDATE audit_logs SET new_values = \'{"role": "admin"}\' WHERE id = :id'), {"id": ids[2]}
        )
        await session.execute(text("ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_immutable"))
        await session.commit()
        report = await verify_chain(session)
    assert not report.ok
    assert report.first_broken_id == ids[2]
    assert "content" in report.reason

    env = {**os.environ, "LAURA_DATABASE_URL": database_url}
    # the CLI as a user runs it; blocking is fine, nothing else runs on the test's loop meanwhile
    result = subprocess.run(  # noqa: ASYNC221
        [sys.executable, "-m", "laura", "audit", "verify"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert f"row {ids[2]}" in result.stderr


async def test_concurrent_writers_never_fork_a_chain(client, app):
    import asyncio

    await asyncio.gather(*(_register_some(client, 1) for _ in range(12)))
    async with app.state.db.sessionmaker() as session:
        report = await verify_chain(session)
        total = await session.scalar(text("SELECT count(*) FROM audit_logs"))
        forks = await session.scalar(
            text(
                "SELECT count(*) FROM (SELECT chain, prev_hash FROM audit_logs"
                " GROUP BY chain, prev_hash HAVING count(*) > 1) f"
            )
        )
    assert report.ok and report.rows == total >= 12
    assert forks == 0
