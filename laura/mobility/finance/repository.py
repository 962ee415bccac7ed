"""The report's one query and the snapshots' one write.

Both read the ledger's tables by the reasons and account codes the mobility flows book with (a fare:
'RIDE_PAYMENT' D 1300 / C 4100 and its 'RIDE_COMMISSION' split to 4200 and 2100.<driver>, see
payments/sql/ride_paid.sql; a cancellation fee: 'CANCELLATION_FEE' and 'CANCELLATION_FEE_SPLIT' the same way;
a payout: a 'PAYOUT' hold D 2100.<driver> / C 1100, posted when the PSP confirms, voided when it fails; a share
held for fraud review: a 'FRAUD_REVIEW' hold D 2100.<driver> / C 2110, posted when confirmed; money received
for a ride that must not pay it again: 'RIDE_REFUND_DUE' D 1300 / C 2300, and 'RIDE_REFUNDED' D 2300 / C 1300
once ops refunded it, see payments/sql/refund.sql and payments/refunds.py) rather
than through `laura.ledger.service`: the report is a single statement so that every
figure comes from one snapshot of the database (a payout completing between two queries would otherwise
make the driver earnings and the payouts disagree with the trial balance), and the snapshot is one
INSERT ... SELECT over every driver account instead of one balance read per driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import execute, fetch, fetchval

CHARGE_PURPOSES = ["mobility.ride", "mobility.cancellation_fee"]
"""The Pix charges of mobility: a ride's fare and a cancellation fee."""

# $1, $2: the range's UTC instants [start, end); $3: date_trunc's unit; $4: the time zone; $5: purposes.
# Each branch names one figure and buckets its rows by their local date:
#   ride_revenue, fees   the fare and fee postings (D 1300 / C 4100), by amount
#   commission           the splits' credits to 4200 (COMISSAO_PLATAFORMA), rides and fees
#   driver_earnings      the splits' credits to the drivers' 2100.<driver> accounts, rides and fees
#   payouts_pending      'PAYOUT' holds still pending, when placed
#   payouts_completed    'PAYOUT' holds posted, when posted, by the posted amount
#   payouts_failed       'PAYOUT' holds voided (or expired), when released
#   fraud_under_review   'FRAUD_REVIEW' holds (a driver's share held, D 2100.<driver> / C 2110) still pending
#   fraud_confirmed      'FRAUD_REVIEW' holds posted (an admin confirmed the fraud: the share went to 2110)
#   charges_pending      mobility charges still ACTIVE, when created
#   webhooks_missed      mobility Pix that reconciliation applied because no webhook came, when applied
#   refunds_due          'RIDE_REFUND_DUE' postings (a ride paid again: owed back, D 1300 / C 2300)
#   refunds_made         'RIDE_REFUNDED' postings (ops refunded one: D 2300 / C 1300)
_REPORT = """
WITH figures (period, figure, n, cents) AS (
    SELECT date_trunc($3, t.created_at AT TIME ZONE $4)::date,
           CASE t.reason WHEN 'RIDE_PAYMENT' THEN 'ride_revenue' ELSE 'fees' END, count(*), sum(t.amount)
      FROM ledger_transactions t
     WHERE t.reason IN ('RIDE_PAYMENT', 'CANCELLATION_FEE') AND t.kind = 'posting'
       AND t.created_at >= $1 AND t.created_at < $2
     GROUP BY 1, 2
    UNION ALL
    SELECT date_trunc($3, t.created_at AT TIME ZONE $4)::date,
           CASE WHEN a.code = '4200' THEN 'commission' ELSE 'driver_earnings' END, count(*), sum(e.amount)
      FROM ledger_transactions t
      JOIN ledger_entries e ON e.transaction_id = t.id
      JOIN ledger_accounts a ON a.id = e.account_id
     WHERE t.reason IN ('RIDE_COMMISSION', 'CANCELLATION_FEE_SPLIT') AND t.kind = 'posting'
       AND t.created_at >= $1 AND t.created_at < $2
       AND e.direction = 'C' AND (a.code = '4200' OR a.code LIKE '2100.%')
     GROUP BY 1, 2
    UNION ALL
    SELECT date_trunc($3, t.created_at AT TIME ZONE $4)::date,
           CASE t.reason WHEN 'PAYOUT' THEN 'payouts_pending' ELSE 'fraud_under_review' END, count(*), sum(t.amount)
      FROM ledger_transactions t
      JOIN ledger_holds h ON h.transaction_id = t.id
     WHERE t.reason IN ('PAYOUT', 'FRAUD_REVIEW') AND t.kind = 'hold' AND h.status = 'pending'
       AND t.created_at >= $1 AND t.created_at < $2
     GROUP BY 1, 2
    UNION ALL
    SELECT date_trunc($3, p.created_at AT TIME ZONE $4)::date,
           CASE t.reason WHEN 'PAYOUT' THEN 'payouts_completed' ELSE 'fraud_confirmed' END, count(*), sum(p.amount)
      FROM ledger_transactions t
      JOIN ledger_transactions p ON p.hold_id = t.id
     WHERE t.reason IN ('PAYOUT', 'FRAUD_REVIEW') AND t.kind = 'hold' AND t.created_at < $2
       AND p.created_at >= $1 AND p.created_at < $2
     GROUP BY 1, 2
    UNION ALL
    SELECT date_trunc($3, h.resolved_at AT TIME ZONE $4)::date, 'payouts_failed', count(*), sum(t.amount)
      FROM ledger_transactions t
      JOIN ledger_holds h ON h.transaction_id = t.id
     WHERE t.reason = 'PAYOUT' AND t.kind = 'hold' AND t.created_at < $2
       AND h.status IN ('voided', 'expired') AND h.resolved_at >= $1 AND h.resolved_at < $2
     GROUP BY 1
    UNION ALL
    SELECT date_trunc($3, c.created_at AT TIME ZONE $4)::date, 'charges_pending', count(*), sum(c.amount_cents)
      FROM pix_charges c
     WHERE c.status = 'ACTIVE' AND c.purpose = ANY($5::text[]) AND c.created_at >= $1 AND c.created_at < $2
     GROUP BY 1
    UNION ALL
    SELECT date_trunc($3, f.created_at AT TIME ZONE $4)::date, 'webhooks_missed', count(*), sum(f.amount_cents)
      FROM financial_events f
     WHERE f.source = 'reconciliation' AND f.kind = 'pix.received' AND f.status = 'applied'
       AND f.purpose = ANY($5::text[]) AND f.created_at >= $1 AND f.created_at < $2
     GROUP BY 1
    UNION ALL
    SELECT date_trunc($3, t.created_at AT TIME ZONE $4)::date,
           CASE t.reason WHEN 'RIDE_REFUND_DUE' THEN 'refunds_due' ELSE 'refunds_made' END, count(*), sum(t.amount)
      FROM ledger_transactions t
     WHERE t.reason IN ('RIDE_REFUND_DUE', 'RIDE_REFUNDED') AND t.kind = 'posting'
       AND t.created_at >= $1 AND t.created_at < $2
     GROUP BY 1, 2
)
SELECT period, figure, sum(n)::bigint AS n, sum(cents)::bigint AS cents FROM figures GROUP BY 1, 2
"""


@dataclass(frozen=True)
class FigureRow:
    period: date
    """The natural first day of the period (date_trunc's answer)."""
    figure: str
    count: int
    cents: int


async def report_figures(
    session: AsyncSession, *, start: datetime, end: datetime, unit: str, timezone: str
) -> list[FigureRow]:
    """Every non-zero figure of every period in [start, end), in one statement (one snapshot)."""
    rows = await fetch(session, _REPORT, start, end, unit, timezone, CHARGE_PURPOSES)
    return [FigureRow(r["period"], r["figure"], int(r["n"]), int(r["cents"])) for r in rows]


# A driver account's balance on its normal (credit) side as of $2, as laura.ledger's `balance(as_of=...)`
# reckons it: posted entries before $2, and the entries of holds placed before $2 and still open then.
# `pending` is the net of those holds (negative when money is held going out, as for a payout).
_SNAPSHOT = """
INSERT INTO mobility_driver_balance_snapshots AS s (driver_id, day, account_id, posted_cents, pending_cents)
SELECT substr(a.code, 6)::uuid, $1::date, a.id,
       coalesce(sum(CASE e.direction WHEN 'C' THEN e.amount ELSE -e.amount END) FILTER (WHERE NOT e.pending), 0),
       coalesce(sum(CASE e.direction WHEN 'C' THEN e.amount ELSE -e.amount END)
                    FILTER (WHERE e.pending AND (h.resolved_at IS NULL OR h.resolved_at >= $2)), 0)
  FROM ledger_accounts a
  LEFT JOIN ledger_entries e ON e.account_id = a.id AND e.created_at < $2
  LEFT JOIN ledger_holds h ON h.transaction_id = e.transaction_id AND e.pending
 WHERE a.code LIKE '2100.%' AND a.created_at < $2
 GROUP BY a.id, a.code
ON CONFLICT (driver_id, day) DO UPDATE
   SET posted_cents = EXCLUDED.posted_cents, pending_cents = EXCLUDED.pending_cents, taken_at = now()
"""


async def write_snapshots(session: AsyncSession, *, day: date, day_end: datetime) -> None:
    """One row per driver account opened before `day_end`, as of `day_end`; a re-run rewrites the day."""
    await execute(session, _SNAPSHOT, day, day_end)


async def last_snapshot_day(session: AsyncSession) -> date | None:
    day: date | None = await fetchval(session, "SELECT max(day) FROM mobility_driver_balance_snapshots")
    return day
