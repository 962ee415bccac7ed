"""GET /admin/financials/report over HTTP: rides paid through the real flow (charge job, sandbox, webhook
intake, reconciliation for a lost webhook), cancellation fees and payouts booked as the other flows book
them, and shares held for fraud review; the report's totals over all time equal the ledger's trial balance,
per period and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import httpx
from prometheus_client import REGISTRY

from laura.ledger import service as ledger
from laura.pix.tasks import reconcile
from tests.mobility.finance.support import (
    charged_ride,
    fee_paid_by_webhook,
    fraud_hold,
    paid_by_webhook,
    paid_fee,
    paid_from_account,
    payout,
)
from tests.mobility.payments.support import rows
from tests.mobility.support import admin, passenger
from tests.pix.conftest import db, settings  # noqa: F401
from tests.pix.sandbox.fixtures import PIX_KEY, control, sandbox_server, sandbox_url  # noqa: F401

REPORT = "/admin/financials/report"


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


async def trial_balance(app) -> dict[str, int]:
    """The trial balance's posted figures of the accounts the report explains, summed over the drivers'."""
    async with app.state.db.unit_of_work() as session:
        balance = await ledger.trial_balance(session)
    figures = {"1100": 0, "1300": 0, "4100": 0, "4200": 0, "2100.*": 0, "2110": 0, "2101.*": 0, "3100": 0}
    for row in balance.rows:
        code = row.account.code
        if code.startswith(("2100.", "2101.")):
            code = code[:4] + ".*"
        if code in figures:
            figures[code] += row.debits_cents - row.credits_cents
    return figures


async def local_today(app) -> date:
    return (await rows(app, "SELECT (now() AT TIME ZONE 'America/Sao_Paulo')::date"))[0][0]


def days_from(first: str, n: int) -> list[str]:
    start = date.fromisoformat(first)
    return [str(start + timedelta(days=i)) for i in range(n)]


async def all_time(app, client: httpx.AsyncClient, headers: dict, **params) -> httpx.Response:
    """The report from yesterday to tomorrow (Brasília): everything this test booked, whatever the hour."""
    today = await local_today(app)
    span = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    return await client.get(REPORT, params={**span, **params}, headers=headers)


async def test_the_reports_totals_over_all_time_equal_the_trial_balance(
    app,
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
    settings,
) -> None:
    first = await paid_by_webhook(app, client, control)
    second = await paid_by_webhook(app, client, control)
    lost, lost_txid = await charged_ride(app, client)
    (await control.post("/sandbox/faults", json={"webhook": "drop"})).raise_for_status()
    (await control.post(f"/sandbox/cob/{lost_txid}/pay")).raise_for_status()
    missed_before = REGISTRY.get_sample_value("webhooks_missed_total") or 0.0
    await reconcile(app.state.db, app.state.psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=100)
    unpaid, _ = await charged_ride(app, client)
    await paid_fee(app, first.driver.id, cents=1000, commission=200)
    await fee_paid_by_webhook(app, client, control)  # 5.00: 1.25 commission, 3.75 the driver's
    from_account = await paid_from_account(app, client, Decimal("100.00"))
    await payout(app, first.driver.id, cents=500, outcome="completed")
    await payout(app, second.driver.id, cents=300, outcome="completed")
    await payout(app, second.driver.id, cents=200, outcome="failed")
    await payout(app, lost.driver.id, cents=100, outcome="pending")
    await fraud_hold(app, first.driver.id, cents=50, confirmed=True)
    await fraud_hold(app, second.driver.id, cents=30, confirmed=False)
    headers = await admin(app, client)

    answer = await all_time(app, client, headers, groupBy="day")

    assert answer.status_code == 200, answer.text
    report = answer.json()
    totals = report["totals"]
    internal = round(from_account.fare * 100)
    fares = [round(r.fare * 100) for r in (first, second, lost)] + [internal]
    assert cents(totals["grossRideRevenue"]) == sum(fares) and totals["ridesPaid"] == 4
    assert cents(totals["cancellationFees"]) == 1500 and totals["cancellationFeesPaid"] == 2
    assert totals["payoutsCompleted"] == {"count": 2, "amount": "8.00"}
    assert totals["payoutsFailed"] == {"count": 1, "amount": "2.00"}
    assert totals["payoutsPending"] == {"count": 1, "amount": "1.00"}
    assert totals["chargesPending"] == {"count": 1, "amount": f"{unpaid.fare:.2f}"}
    assert totals["webhooksMissed"] == {"count": 1, "amount": f"{lost.fare:.2f}"}
    assert REGISTRY.get_sample_value("webhooks_missed_total") == missed_before + 1
    assert totals["fraudConfirmed"] == {"count": 1, "amount": "0.50"}
    assert totals["fraudUnderReview"] == {"count": 1, "amount": "0.30"}

    books = await trial_balance(app)
    earnings, commission = cents(totals["driverEarnings"]), cents(totals["platformCommission"])
    completed = cents(totals["payoutsCompleted"]["amount"])
    # What a Laura account paid never was receivable from the PSP: it came out of the customers' accounts.
    assert (
        books["1300"] + internal
        == sum(fares) + 1500
        == cents(totals["grossRideRevenue"]) + cents(totals["cancellationFees"])
    )
    assert books["3100"] + books["2101.*"] == internal
    assert books["4200"] == -commission
    forfeited = cents(totals["fraudConfirmed"]["amount"])
    assert books["2100.*"] == -(earnings - completed - forfeited)
    assert books["2110"] == -forfeited
    assert books["1100"] == -completed
    assert books["4100"] == -(sum(fares) + 1500 - commission - earnings) == 0
    assert commission + earnings == sum(fares) + 1500

    assert [p["periodStart"] for p in report["periods"]] == days_from(report["from"], 3)
    for field in ("grossRideRevenue", "platformCommission", "driverEarnings", "cancellationFees"):
        assert sum(cents(p[field]) for p in report["periods"]) == cents(totals[field])
    assert report["groupBy"] == "day" and report["timezone"] == "America/Sao_Paulo"
    assert report["currency"] == "BRL"


async def test_the_csv_has_a_header_and_one_row_per_period_with_the_json_figures(
    app,
    client: httpx.AsyncClient,
    control: httpx.AsyncClient,
) -> None:
    ride = await paid_by_webhook(app, client, control)
    await payout(app, ride.driver.id, cents=150, outcome="completed")
    headers = await admin(app, client)
    as_json = (await all_time(app, client, headers, groupBy="month")).json()

    answer = await all_time(app, client, headers, groupBy="month", format="csv")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="financials-')
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(table) == len(as_json["periods"]) and len(table) in (1, 2)  # the span may cross a month
    assert [r["periodStart"] for r in table] == [p["periodStart"] for p in as_json["periods"]]
    assert sum(cents(r["grossRideRevenue"]) for r in table) == round(ride.fare * 100)
    assert sum(int(r["payoutsCompletedCount"]) for r in table) == 1
    assert sum(cents(r["payoutsCompletedAmount"]) for r in table) == 150
    assert list(table[0])[:3] == ["grossRideRevenue", "ridesPaid", "platformCommission"]


async def test_weeks_and_months_are_clamped_to_the_range_and_quiet_periods_are_zeros(
    app, client: httpx.AsyncClient
) -> None:
    headers = await admin(app, client)

    weeks = await client.get(
        REPORT, params={"from": "2026-01-01", "to": "2026-01-31", "groupBy": "week"}, headers=headers
    )
    months = await client.get(
        REPORT, params={"from": "2025-11-15", "to": "2026-02-10", "groupBy": "month"}, headers=headers
    )

    assert [(p["periodStart"], p["periodEnd"]) for p in weeks.json()["periods"]] == [
        ("2026-01-01", "2026-01-04"),
        ("2026-01-05", "2026-01-11"),
        ("2026-01-12", "2026-01-18"),
        ("2026-01-19", "2026-01-25"),
        ("2026-01-26", "2026-01-31"),
    ]
    assert [(p["periodStart"], p["periodEnd"]) for p in months.json()["periods"]] == [
        ("2025-11-15", "2025-11-30"),
        ("2025-12-01", "2025-12-31"),
        ("2026-01-01", "2026-01-31"),
        ("2026-02-01", "2026-02-10"),
    ]
    quiet = months.json()["totals"]
    assert quiet["grossRideRevenue"] == "0.00" and quiet["payoutsPending"] == {"count": 0, "amount": "0.00"}


async def test_the_default_is_this_month_by_day(app, client: httpx.AsyncClient) -> None:
    headers = await admin(app, client)

    body = (await client.get(REPORT, headers=headers)).json()

    # "Today" is read after the call: the report's own today is that day, or the one before at midnight.
    today = await local_today(app)
    assert body["to"] in (str(today), str(today - timedelta(days=1)))
    assert body["groupBy"] == "day" and body["from"] == body["to"][:8] + "01"
    assert [p["periodStart"] for p in body["periods"]] == days_from(body["from"], int(body["to"][8:]))


async def test_a_bad_range_is_422_with_a_clear_message(app, client: httpx.AsyncClient) -> None:
    headers = await admin(app, client)

    backwards = await client.get(REPORT, params={"from": "2026-02-01", "to": "2026-01-01"}, headers=headers)
    too_long = await client.get(REPORT, params={"from": "2025-01-01", "to": "2026-06-30"}, headers=headers)
    not_a_date = await client.get(REPORT, params={"from": "yesterday"}, headers=headers)
    bad_group = await client.get(REPORT, params={"groupBy": "year"}, headers=headers)
    long_by_month = await client.get(
        REPORT, params={"from": "2025-01-01", "to": "2026-06-30", "groupBy": "month"}, headers=headers
    )

    assert backwards.status_code == 422 and backwards.json()["error"] == "REPORT_RANGE_INVALID"
    assert "`to` must not be before `from`" in backwards.json()["message"]
    assert too_long.status_code == 422
    assert (
        too_long.json()["message"] == "A report grouped by day covers at most 366 days; this one asks for 546"
    )
    assert not_a_date.status_code == 422 and not_a_date.json()["error"] == "VALIDATION_ERROR"
    assert bad_group.status_code == 422
    assert long_by_month.status_code == 200 and len(long_by_month.json()["periods"]) == 18


async def test_only_admins_read_the_report(app, client: httpx.AsyncClient) -> None:
    _, rider = await passenger(client)

    assert (await client.get(REPORT, headers=rider)).status_code == 403
    assert (await client.get(REPORT)).status_code == 401
