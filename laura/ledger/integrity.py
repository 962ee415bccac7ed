"""The queries of `verify`: whole-ledger checks that read every row from one snapshot (balanced
transactions, no orphan entries, debits equal credits, stored totals equal their entries, no flagged
account past its limit). Kept apart from `repository.py`, whose queries serve the ledger's daily work.
Entries are read from `ledger_all_entries`: the live months and the archived ones (`ledger.partitions`)."""

from __future__ import annotations

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession


class IntegrityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def begin_snapshot(self) -> None:
        """Read everything that follows from one snapshot, when this session has not started yet."""
        if not self.session.in_transaction():
            await self.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    async def counts(self) -> RowMapping:
        row = await self.session.execute(
            text(
                "SELECT (SELECT count(*) FROM ledger_transactions) AS transactions,"
                " (SELECT count(*) FROM ledger_all_entries) AS entries,"
                " (SELECT count(*) FROM ledger_accounts) AS accounts"
            )
        )
        return row.mappings().one()

    async def unbalanced_transactions(self, limit: int) -> list[RowMapping]:
        rows = await self.session.execute(
            text(
                "SELECT t.reference, t.amount, coalesce(e.debits, 0) AS debits, coalesce(e.credits, 0) AS credits,"
                "       coalesce(e.lines, 0) AS lines"
                "  FROM ledger_transactions t"
                "  LEFT JOIN (SELECT transaction_id, sum(amount) FILTER (WHERE direction = 'D') AS debits,"
                "                    sum(amount) FILTER (WHERE direction = 'C') AS credits, count(*) AS lines"
                "               FROM ledger_all_entries GROUP BY transaction_id) e ON e.transaction_id = t.id"
                " WHERE e.lines IS NULL OR e.lines < 2 OR e.debits IS DISTINCT FROM e.credits"
                "    OR e.debits <> t.amount"
                " ORDER BY t.created_at LIMIT :limit"
            ),
            {"limit": limit},
        )
        return list(rows.mappings())

    async def orphan_entries(self, limit: int) -> list[int]:
        """Entries naming a transaction or an account that does not exist."""
        rows = await self.session.execute(
            text(
                "SELECT e.id FROM ledger_all_entries e"
                "  LEFT JOIN ledger_transactions t ON t.id = e.transaction_id"
                "  LEFT JOIN ledger_accounts a ON a.id = e.account_id"
                " WHERE t.id IS NULL OR a.id IS NULL ORDER BY e.id LIMIT :limit"
            ),
            {"limit": limit},
        )
        return list(rows.scalars())

    async def grand_totals(self) -> RowMapping:
        row = await self.session.execute(
            text(
                "SELECT coalesce(sum(amount) FILTER (WHERE direction = 'D' AND NOT pending), 0) AS debits_posted,"
                "       coalesce(sum(amount) FILTER (WHERE direction = 'C' AND NOT pending), 0) AS credits_posted,"
                "       coalesce(sum(amount) FILTER (WHERE direction = 'D' AND pending), 0) AS debits_pending,"
                "       coalesce(sum(amount) FILTER (WHERE direction = 'C' AND pending), 0) AS credits_pending"
                "  FROM ledger_all_entries"
            )
        )
        return row.mappings().one()

    async def drifted_accounts(self, limit: int) -> list[RowMapping]:
        """Accounts whose stored totals differ from the sums of their entries (pending: open holds only)."""
        rows = await self.session.execute(
            text(
                "WITH computed AS ("
                "  SELECT e.account_id,"
                "         sum(e.amount) FILTER (WHERE e.direction = 'D' AND e.pending AND h.status = 'pending') AS dpe,"
                "         sum(e.amount) FILTER (WHERE e.direction = 'D' AND NOT e.pending) AS dpo,"
                "         sum(e.amount) FILTER (WHERE e.direction = 'C' AND e.pending AND h.status = 'pending') AS cpe,"
                "         sum(e.amount) FILTER (WHERE e.direction = 'C' AND NOT e.pending) AS cpo"
                "    FROM ledger_all_entries e"
                "    LEFT JOIN ledger_holds h ON h.transaction_id = e.transaction_id AND e.pending"
                "   GROUP BY e.account_id)"
                " SELECT a.code, b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted,"
                "        coalesce(c.dpe, 0) AS entries_debits_pending, coalesce(c.dpo, 0) AS entries_debits_posted,"
                "        coalesce(c.cpe, 0) AS entries_credits_pending, coalesce(c.cpo, 0) AS entries_credits_posted"
                "   FROM ledger_accounts a"
                "   JOIN ledger_account_balances b ON b.account_id = a.id"
                "   LEFT JOIN computed c ON c.account_id = a.id"
                "  WHERE (b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted)"
                "        IS DISTINCT FROM (coalesce(c.dpe, 0), coalesce(c.dpo, 0), coalesce(c.cpe, 0), coalesce(c.cpo, 0))"
                "  ORDER BY a.code LIMIT :limit"
            ),
            {"limit": limit},
        )
        return list(rows.mappings())

    async def overdrawn_accounts(self, limit: int) -> list[str]:
        rows = await self.session.execute(
            text(
                "SELECT a.code FROM ledger_accounts a JOIN ledger_account_balances b ON b.account_id = a.id"
                " WHERE (a.debits_must_not_exceed_credits"
                "        AND b.debits_pending + b.debits_posted > b.credits_posted)"
                "    OR (a.credits_must_not_exceed_debits"
                "        AND b.credits_pending + b.credits_posted > b.debits_posted)"
                " ORDER BY a.code LIMIT :limit"
            ),
            {"limit": limit},
        )
        return list(rows.scalars())
