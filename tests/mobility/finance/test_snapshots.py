"""The drivers' daily balance snapshots: one row per driver account per Brasília day, as the ledger reckons
the balance as of the day's end (checked against `ledger.balance(as_of=...)` between real postings),
written by the periodic job for the day before its schedule, rewritten (never doubled) when run again, and
catching up days a stopped worker missed."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from laura.core.jobs import JobRuntime, bind_runtime
from laura.core.jobs import app as jobs
from laura.ledger import service as ledger
from laura.mobility.finance import repository, tasks
from tests.mobility.finance.support import paid_by_webhook, payout
from tests.mobility.payments.support import rows
from tests.pix.conftest import db, settings  # noqa: F401
from tests.pix.sandbox.fixtures import control, sandbox_server, sandbox_url  # noqa: F401

BRASILIA = ZoneInfo("America/Sao_Paulo")
SNAPSHOTS = "SELECT day, driver_id::text, posted_cents, pending_cents FROM mobility_driver_balance_snapshots"


async def two_drivers_with_money(app, client: httpx.AsyncClient, control: httpx.AsyncClient) -> list[str]:
    """Two drivers paid for a ride each; the first paid out 3.00, the second with 2.00 on its way."""
    first = await paid_by_webhook(app, client, control)
    second = await paid_by_webhook(app, client, control)
    await payout(app, first.driver.id, cents=300, outcome="completed")
    await payout(app, second.driver.id, cents=200, outcome="pending")
    return [first.driver.id, second.driver.id]


async def current(app, driver_id: str) -> tuple[int, int]:
    async with app.state.db.unit_of_work() as session:
        now = await ledger.balance(session, f"2100.{driver_id}")
    return now.posted, now.pending


def schedule_after(day: date) -> int:
    """The daily schedule's timestamp on the morning after `day` (00:15 in Brasília)."""
    return int(datetime.combine(day + timedelta(days=1), time(0, 15), tzinfo=BRASILIA).timestamp())


async def test_a_snapshot_is_the_ledgers_balance_as_of_its_instant(
    app, client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    drivers = await two_drivers_with_money(app, client, control)
    await payout(app, drivers[0], cents=100, outcome="failed")
    moments = await rows(
        app,
        "SELECT created_at FROM ledger_entries UNION SELECT resolved_at FROM ledger_holds"
        " WHERE resolved_at IS NOT NULL ORDER BY 1",
    )
    instants = [at for (at,) in moments]
    instants.append(instants[-1] + timedelta(seconds=1))
    between = [a + (b - a) / 2 for a, b in itertools.pairwise(instants)]

    for n, instant in enumerate(between):
        label = date(2000, 1, 1) + timedelta(days=n)
        async with app.state.db.unit_of_work() as session:
            await repository.write_snapshots(session, day=label, day_end=instant)
            expected = {}
            for driver_id in drivers:
                account = await ledger.get_account(session, f"2100.{driver_id}")
                if account.created_at < instant:
                    then = await ledger.balance(session, account.code, as_of=instant)
                    expected[driver_id] = (then.posted, then.pending)
        written = await rows(app, SNAPSHOTS + " WHERE day = :d", d=label)
        assert {d: (p, h) for _, d, p, h in written} == expected, instant

    last = await rows(
        app, SNAPSHOTS + " WHERE day = :d", d=date(2000, 1, 1) + timedelta(days=len(between) - 1)
    )
    assert {d: (p, h) for _, d, p, h in last} == {d: await current(app, d) for d in drivers}
    assert any(pending == -200 for *_, pending in last)


async def test_the_daily_job_snapshots_yesterday_once_and_catches_up_missed_days(
    app,
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
    settings,
) -> None:
    drivers = await two_drivers_with_money(app, client, control)
    today = (await rows(app, "SELECT (now() AT TIME ZONE 'America/Sao_Paulo')::date"))[0][0]
    expected = {d: await current(app, d) for d in drivers}

    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        first = await tasks.snapshot_balances(timestamp=schedule_after(today))
        again = await tasks.snapshot_balances(timestamp=schedule_after(today))
        written = await rows(app, SNAPSHOTS)
        later = await tasks.snapshot_balances(timestamp=schedule_after(today + timedelta(days=3)))

    assert first == again == [str(today)]
    assert {d: (p, h) for day, d, p, h in written if day == today} == expected and len(written) == 2
    assert later == [str(today + timedelta(days=n)) for n in (1, 2, 3)]
    by_day = await rows(
        app, "SELECT day, count(*) FROM mobility_driver_balance_snapshots GROUP BY 1 ORDER BY 1"
    )
    assert by_day == [(today + timedelta(days=n), 2) for n in range(4)]
    assert expected[drivers[1]][1] == -200


def test_the_snapshot_job_runs_daily_after_midnight_in_brasilia() -> None:
    periodic = jobs.periodic_registry.periodic_tasks[
        ("mobility.finance.snapshot_balances", "mobility-driver-balance-snapshots")
    ]

    assert periodic.cron == "15 3 * * *"
    due = datetime(2026, 12, 3, 3, 15, tzinfo=UTC).astimezone(BRASILIA)
    assert (due.hour, due.minute) == (0, 15)
