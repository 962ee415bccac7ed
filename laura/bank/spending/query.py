"""The spending query: one SQL over the three places money leaves a customer's account for spending.

- card purchases (`card_transactions`): what was captured less what was refunded, at the purchase's time,
  in the category its MCC gave it; an authorization not captured yet, a voided or declined one and a fully
  refunded one spend nothing and are not counted;
- bill payments (`bill_payments`) COMPLETED, at `paid_at`, category BILLS;
- outgoing transfers (`transfers`: the row's user is the sender; Pix, TED and P2P) COMPLETED, at
  `completed_at`, amount plus fee (what left the account), in the category the customer tagged it with or
  TRANSFERS.

Each branch is served by a partial covering index (migrations 0023 and 0027: (user, time) INCLUDE (amount,
category, and for purchases the merchant)), so a customer's year is an index-only range scan; the grouping
happens in PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.spending.categories import SpendingCategory
from laura.bank.spending.windows import Window
from laura.core.db import fetch

# $1 user, $2 start, $3 end (half-open, UTC); the predicates `captured_cents > refunded_cents` and
# `status = 'COMPLETED'` are the indexes' own, so the planner can use them.
_SPENT = """
    SELECT category, captured_cents - refunded_cents AS cents, created_at AS at
      FROM card_transactions
     WHERE user_id = $1 AND created_at >= $2 AND created_at < $3 AND captured_cents > refunded_cents
    UNION ALL
    SELECT 'BILLS', amount_cents, paid_at
      FROM bill_payments
     WHERE user_id = $1 AND paid_at >= $2 AND paid_at < $3 AND status = 'COMPLETED'
    UNION ALL
    SELECT COALESCE(category, 'TRANSFERS'), amount_cents + fee_cents, completed_at
      FROM transfers
     WHERE user_id = $1 AND completed_at >= $2 AND completed_at < $3 AND status = 'COMPLETED'
"""

_BY_CATEGORY = f"""
SELECT s.category, sum(s.cents)::bigint AS cents, count(*) AS n
  FROM ({_SPENT}) s
 WHERE $4::text[] IS NULL OR s.category = ANY($4::text[])
 GROUP BY s.category
 ORDER BY cents DESC, s.category
"""

_BY_DAY = f"""
SELECT (s.at AT TIME ZONE 'America/Sao_Paulo')::date AS day, sum(s.cents)::bigint AS cents
  FROM ({_SPENT}) s
 GROUP BY day
 ORDER BY day
"""

_BY_MONTH = f"""
SELECT date_trunc('month', s.at AT TIME ZONE 'America/Sao_Paulo')::date AS month, sum(s.cents)::bigint AS cents
  FROM ({_SPENT}) s
 GROUP BY month
 ORDER BY month
"""

# the card branch of _SPENT, by merchant
_TOP_MERCHANTS = """
SELECT merchant, sum(captured_cents - refunded_cents)::bigint AS cents, count(*) AS n
  FROM card_transactions
 WHERE user_id = $1 AND created_at >= $2 AND created_at < $3 AND captured_cents > refunded_cents
 GROUP BY merchant
 ORDER BY cents DESC, merchant
 LIMIT $4
"""


@dataclass(frozen=True)
class CategorySpend:
    category: SpendingCategory
    spent_cents: int
    count: int


@dataclass(frozen=True)
class MerchantSpend:
    merchant: str
    spent_cents: int
    count: int


async def spending_by_category(
    session: AsyncSession,
    user_id: uuid.UUID,
    window: Window,
    categories: list[SpendingCategory] | None = None,
) -> list[CategorySpend]:
    """What the customer spent in each category in the window (only those `categories`, if given), the
    biggest first; a category with nothing spent is absent."""
    wanted = None if categories is None else [str(c) for c in categories]
    rows = await fetch(session, _BY_CATEGORY, user_id, window.start, window.end, wanted)
    return [CategorySpend(SpendingCategory(r["category"]), r["cents"], r["n"]) for r in rows]


async def spending_by_day(
    session: AsyncSession, user_id: uuid.UUID, window: Window
) -> list[tuple[date, int]]:
    """(Brasília day, cents) of the days in the window the customer spent something on, oldest first."""
    rows = await fetch(session, _BY_DAY, user_id, window.start, window.end)
    return [(r["day"], r["cents"]) for r in rows]


async def spending_by_month(
    session: AsyncSession, user_id: uuid.UUID, window: Window
) -> list[tuple[date, int]]:
    """(first day of the Brasília month, cents) of the months in the window with spending, oldest first."""
    rows = await fetch(session, _BY_MONTH, user_id, window.start, window.end)
    return [(r["month"], r["cents"]) for r in rows]


async def top_merchants(
    session: AsyncSession, user_id: uuid.UUID, window: Window, limit: int
) -> list[MerchantSpend]:
    """The card merchants the customer spent most with in the window (net of refunds), at most `limit`."""
    rows = await fetch(session, _TOP_MERCHANTS, user_id, window.start, window.end, limit)
    return [MerchantSpend(r["merchant"], r["cents"], r["n"]) for r in rows]
