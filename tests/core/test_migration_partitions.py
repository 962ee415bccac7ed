"""Migration 0039 on a database with data: ledger entries and outbox events keep their ids and contents
through the downgrade to plain tables and the upgrade back to monthly partitions, identities continue
after the highest id, and the ledger still verifies."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text

from laura.core.db import Database
from laura.core.events import publish
from laura.core.migrations import alembic_config, upgrade
from laura.ledger import service as ledger


async def _post(url: str, reference: str) -> None:
    db = Database(url)
    try:
        async with db.unit_of_work() as session:
            await ledger.post(
                session, [("3100", "D", 5_00), ("1100", "C", 5_00)], reference=reference, reason="test"
            )
            await publish(session, f"test.{reference}", {"reference": reference})
    finally:
        await db.dispose()


async def _rows(url: str, *, verify: bool = True) -> tuple[list[tuple], list[tuple], str, bool]:
    """Entries, outbox rows, the kind of table the entries live in and whether verify passes (this code's
    verify reads the archive too, so it needs migration 0039)."""
    db = Database(url)
    try:
        async with db.sessionmaker() as session:
            entries = (await session.execute(text("SELECT * FROM ledger_entries ORDER BY id"))).all()
            events = (await session.execute(text("SELECT id, type, data FROM outbox ORDER BY id"))).all()
            kind = await session.scalar(
                text("SELECT relkind::text FROM pg_class WHERE oid = 'ledger_entries'::regclass")
            )
            await session.rollback()
            ok = (await ledger.verify(session)).ok if verify else True
        return [tuple(row) for row in entries], [tuple(row) for row in events], kind, ok
    finally:
        await db.dispose()


async def test_rows_survive_the_downgrade_and_the_upgrade(database_url: str) -> None:
    await _post(database_url, "before")
    at_head = await _rows(database_url)
    assert at_head[2] == "p" and at_head[3] and len(at_head[0]) == 2

    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0038")
    downgraded = await _rows(database_url, verify=False)
    assert downgraded == (at_head[0], at_head[1], "r", True)
    await _post(database_url, "between")

    await asyncio.to_thread(upgrade, database_url)
    await _post(database_url, "after")
    entries, events, kind, ok = await _rows(database_url)
    assert kind == "p" and ok
    assert entries[:2] == at_head[0] and len(entries) == 6
    assert [row[0] for row in entries] == sorted({row[0] for row in entries})
    assert [row[1] for row in events] == ["test.before", "test.between", "test.after"]
    assert [row[0] for row in events] == sorted({row[0] for row in events})
