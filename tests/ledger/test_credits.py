"""An account's posted credits by local month: what counts as money that came in, and which month it is."""

from __future__ import annotations

from datetime import UTC, date, datetime

from laura.core.db import execute
from laura.ledger import service as ledger
from laura.ledger.credits import credits_by_month
from tests.ledger.conftest import customer

START, END = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


async def _credits(db, code: str, **kwargs) -> list[tuple[date, int]]:
    async with db.sessionmaker() as session:
        return await credits_by_month(session, code, START, END, timezone="America/Sao_Paulo", **kwargs)


async def test_posted_credits_count_reversals_holds_and_excluded_reasons_do_not(db) -> None:
    code = await customer(db, 100_00)  # a posted credit of 100.00 (reason "funding")
    other = await customer(db)
    async with db.unit_of_work() as session:
        sent = await ledger.post(
            session, [(code, "D", 30_00), (other, "C", 30_00)], reference="p1", reason="P2P"
        )
        await ledger.reverse(
            session, sent.id, reference="p1:back", reason="REVERSAL"
        )  # 30.00 back: no income
        await ledger.post(
            session, [("2200", "D", 5_00), (code, "C", 5_00)], reference="r1", reason="CARD_REFUND"
        )
        await ledger.hold(session, [("3100", "D", 7_00), (code, "C", 7_00)], reference="h1", reason="HOLD")

    this_month = (await _credits(db, code))[0][0]
    assert await _credits(db, code) == [(this_month, 105_00)]
    assert await _credits(db, code, excluding_reasons=["CARD_REFUND"]) == [(this_month, 100_00)]
    assert await _credits(db, other) == [(this_month, 30_00)]


async def test_a_credit_falls_in_its_local_month(db) -> None:
    code = await customer(db, 10_00)
    async with db.unit_of_work() as session:
        # 00:30 UTC on 1 February is still 31 January, 21:30, in São Paulo
        await execute(session, "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_immutable")
        await execute(
            session,
            "UPDATE ledger_entries e SET created_at = '2026-02-01T00:30:00Z' FROM ledger_accounts a"
            " WHERE a.id = e.account_id AND a.code = $1",
            code,
        )
        await execute(session, "ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_immutable")
    assert await _credits(db, code) == [(date(2026, 1, 1), 10_00)]
    async with db.sessionmaker() as session:
        assert await credits_by_month(session, code, START, END, timezone="UTC") == [
            (date(2026, 2, 1), 10_00)
        ]
