"""ledger_entries by month: entries of past months archived by `partitions.maintain` are still verified
(and a tampered archived entry is caught), balances are untouched, every month partition and the archive
stay append-only, and an entry whose month has no partition lands in the default one."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from laura.core.db import Database, execute, fetch, fetchval
from laura.core.jobs import JobRuntime, app, bind_runtime
from laura.ledger import partitions
from laura.ledger import service as ledger
from laura.ledger.tasks import entry_partitions
from laura.settings import Settings
from tests.ledger.conftest import balance_of, customer

JANUARY, MARCH = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC)


async def _move_to(db: Database, reference: str, at: datetime) -> None:
    """Date a posted transaction and its entries back to `at`, as if it had been posted then (the guard
    triggers are off for that statement only)."""
    async with db.unit_of_work() as session:
        for table in ("ledger_entries", "ledger_transactions"):
            await execute(session, f"ALTER TABLE {table} DISABLE TRIGGER {table}_immutable")
        await execute(
            session,
            "UPDATE ledger_entries e SET created_at = $2 FROM ledger_transactions t"
            " WHERE t.id = e.transaction_id AND t.reference = $1",
            reference,
            at,
        )
        await execute(
            session, "UPDATE ledger_transactions SET created_at = $2 WHERE reference = $1", reference, at
        )
        for table in ("ledger_entries", "ledger_transactions"):
            await execute(session, f"ALTER TABLE {table} ENABLE TRIGGER {table}_immutable")


async def _three_months_of_transfers(db: Database) -> tuple[str, str]:
    """Transfers from A to B in January, February and March 2026, each in its month's partition."""
    sender, receiver = await customer(db, 100_00), await customer(db)
    async with db.unit_of_work() as session:
        assert await partitions.ensure_months(session, JANUARY, MARCH) == 3
    for n, month in enumerate((1, 2, 3)):
        async with db.unit_of_work() as session:
            await ledger.post(
                session, [(sender, "D", 10_00), (receiver, "C", 10_00)], reference=f"t{n}", reason="P2P"
            )
        await _move_to(db, f"t{n}", datetime(2026, month, 15, tzinfo=UTC))
    return sender, receiver


async def _where(db: Database) -> list[tuple[str, int]]:
    async with db.sessionmaker() as session:
        rows = await fetch(
            session,
            "SELECT e.part, count(*) AS n"
            "  FROM (SELECT tableoid::regclass::text AS part, transaction_id FROM ledger_entries"
            "        UNION ALL SELECT tableoid::regclass::text, transaction_id FROM archive.ledger_entries) e"
            "  JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.reference LIKE 't_'"
            " GROUP BY 1 ORDER BY 1",
        )
    return [(row["part"], row["n"]) for row in rows]


async def _verify(db: Database) -> ledger.VerifyReport:
    async with db.sessionmaker() as session:
        return await ledger.verify(session)


async def test_archived_months_are_still_verified_and_balances_unchanged(db: Database) -> None:
    sender, receiver = await _three_months_of_transfers(db)
    before = (await balance_of(db, sender), await balance_of(db, receiver))
    entries_before = (await _verify(db)).entries
    assert await _where(db) == [
        ("ledger_entries_202601", 2),
        ("ledger_entries_202602", 2),
        ("ledger_entries_202603", 2),
    ]

    async with db.unit_of_work() as session:
        done = await partitions.maintain(
            session, now=datetime(2026, 5, 2, tzinfo=UTC), archive_after_months=1
        )
    # April (one full month back) and May stay; May..August are made ready
    assert done.archived == ["ledger_entries_202601", "ledger_entries_202602", "ledger_entries_202603"]
    assert done.created == 4
    assert await _where(db) == [
        ("archive.ledger_entries_202601", 2),
        ("archive.ledger_entries_202602", 2),
        ("archive.ledger_entries_202603", 2),
    ]
    report = await _verify(db)
    assert report.ok, report.problems
    assert report.entries == entries_before
    assert (await balance_of(db, sender), await balance_of(db, receiver)) == before
    assert before[0].posted == 70_00 and before[1].posted == 30_00

    async with db.unit_of_work() as session:  # a month is archived once: running again changes nothing
        again = await partitions.maintain(
            session, now=datetime(2026, 5, 2, tzinfo=UTC), archive_after_months=1
        )
    assert again == partitions.Maintenance(created=0, archived=[])


async def test_a_tampered_archived_entry_fails_verify(db: Database) -> None:
    sender, _ = await _three_months_of_transfers(db)
    async with db.unit_of_work() as session:
        await partitions.archive_months_before(session, datetime(2026, 4, 1, tzinfo=UTC))
    async with db.unit_of_work() as session:
        await execute(session, "ALTER TABLE archive.ledger_entries DISABLE TRIGGER ledger_entries_immutable")
        await execute(
            session,
            "UPDATE archive.ledger_entries e SET amount = 1 FROM ledger_accounts a"
            " WHERE a.id = e.account_id AND a.code = $1 AND e.created_at < '2026-02-01'",
            sender,
        )
        await execute(session, "ALTER TABLE archive.ledger_entries ENABLE TRIGGER ledger_entries_immutable")
    report = await _verify(db)
    assert not report.ok
    assert any("transaction t0" in problem for problem in report.problems), report.problems
    assert any(sender in problem for problem in report.problems), report.problems


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE archive.ledger_entries SET amount = amount + 1",
        "DELETE FROM archive.ledger_entries",
        "TRUNCATE archive.ledger_entries",
        "TRUNCATE archive.ledger_entries_202601",
        "TRUNCATE ledger_entries_202603",
        "TRUNCATE ledger_entries_default",
        "DELETE FROM ledger_entries_202603",
    ],
)
async def test_month_partitions_and_the_archive_stay_append_only(db: Database, statement: str) -> None:
    await _three_months_of_transfers(db)
    async with db.unit_of_work() as session:
        await partitions.archive_months_before(session, datetime(2026, 2, 1, tzinfo=UTC))
    url = db.url.replace("postgresql+asyncpg://", "postgresql://")
    with (
        psycopg.connect(url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute(statement)
    assert [part for part, _ in await _where(db)] == [
        "archive.ledger_entries_202601",
        "ledger_entries_202602",
        "ledger_entries_202603",
    ]


async def test_a_month_without_partition_lands_in_the_default_and_keeps_it(db: Database) -> None:
    code = await customer(db, 10_00)
    async with db.sessionmaker() as session:
        reference = await fetchval(
            session,
            "SELECT t.reference FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id"
            " JOIN ledger_accounts a ON a.id = e.account_id WHERE a.code = $1",
            code,
        )
    await _move_to(db, reference, datetime(2025, 6, 1, tzinfo=UTC))
    async with db.unit_of_work() as session:
        # June 2025's rows are in the default: that month cannot get a partition of its own; July can
        assert (
            await partitions.ensure_months(
                session, datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
            )
            == 1
        )
        where = await fetch(
            session,
            "SELECT DISTINCT e.tableoid::regclass::text AS part FROM ledger_entries e"
            " JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.reference = $1",
            reference,
        )
    assert [row["part"] for row in where] == ["ledger_entries_default"]
    assert (await balance_of(db, code)).posted == 10_00
    assert (await _verify(db)).ok


async def test_maintenance_without_archiving_only_prepares_the_months_ahead(db: Database) -> None:
    await _three_months_of_transfers(db)
    async with db.unit_of_work() as session:
        done = await partitions.maintain(
            session, now=datetime(2027, 6, 30, tzinfo=UTC), archive_after_months=None
        )
        names = await fetch(
            session,
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'ledger_entries'::regclass AND c.relname >= 'ledger_entries_202706'"
            " ORDER BY 1",
        )
    assert done.archived == []
    assert [row["relname"] for row in names] == [
        "ledger_entries_202706",
        "ledger_entries_202707",
        "ledger_entries_202708",
        "ledger_entries_202709",
        "ledger_entries_default",
    ]
    assert len(await _where(db)) == 3


async def test_the_daily_job_archives_past_the_setting(db: Database, settings: Settings) -> None:
    assert ("ledger.entry_partitions", "ledger-entry-partitions") in app.periodic_registry.periodic_tasks
    await _three_months_of_transfers(db)
    with bind_runtime(JobRuntime(db=db, settings=settings)):
        assert (await entry_partitions(timestamp=0))["archived"] == []
    archiving = settings.model_copy(update={"ledger_archive_after_months": 6})
    with bind_runtime(JobRuntime(db=db, settings=archiving)):
        done = await entry_partitions(timestamp=0)
    assert done["archived"] == ["ledger_entries_202601", "ledger_entries_202602", "ledger_entries_202603"]
    assert (await _verify(db)).ok
