"""Money that came in to an account: its posted credits summed per month of a local calendar.

A credit counts when it is posted (a pending hold is not money yet) and is not a reversal (a reversal gives
back what a mistaken posting moved, it is no income); a caller names the reasons it does not count either
(a bank's card refunds give back spending). Served by the partial index on credits of migration 0024, so
one account's months are a range scan of its credits alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import fetch

_BY_MONTH = """
SELECT date_trunc('month', e.created_at AT TIME ZONE $4)::date AS month, sum(e.amount)::bigint AS cents
  FROM ledger_accounts a
  JOIN ledger_entries e ON e.account_id = a.id
  JOIN ledger_transactions t ON t.id = e.transaction_id
 WHERE a.code = $1 AND e.direction = 'C' AND NOT e.pending AND e.created_at >= $2 AND e.created_at < $3
   AND t.kind <> 'reversal' AND t.reason <> ALL($5::text[])
 GROUP BY month
 ORDER BY month
"""


async def credits_by_month(
    session: AsyncSession,
    account_code: str,
    start: datetime,
    end: datetime,
    *,
    timezone: str,
    excluding_reasons: Sequence[str] = (),
) -> list[tuple[date, int]]:
    """(first day of the month in `timezone`, cents) of the account's posted credits in [start, end),
    reversals and the `excluding_reasons` left out; months without credits are absent."""
    rows = await fetch(session, _BY_MONTH, account_code, start, end, timezone, list(excluding_reasons))
    return [(row["month"], int(row["cents"])) for row in rows]
