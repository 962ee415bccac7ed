"""The demo seed's history: every screen has something real (transfers of the customers, budgets, support
tickets, past rides completed and rated, a driver waiting for approval, an open anti-fraud flag), the ledger and the audit chain verify
after it, and seeding a second time adds nothing."""

from __future__ import annotations

from sqlalchemy import text

from laura.audit.service import verify_chain
from laura.bank.history_seed import BUDGETS, P2P_PLAN, TICKETS
from laura.ledger import service as ledger
from laura.mobility.history_seed import RIDES
from laura.seed import seed_demo

COUNTS = {
    "users": "SELECT count(*) FROM users",
    "p2p": "SELECT count(*) FROM transfers WHERE type = 'P2P'",
    "tagged": "SELECT count(*) FROM transfers WHERE category IS NOT NULL",
    "budgets": "SELECT count(*) FROM budgets",
    "tickets": "SELECT count(*) FROM support_tickets",
    "staff_messages": "SELECT count(*) FROM ticket_messages WHERE author_type = 'STAFF'",
    "pending_drivers": "SELECT count(*) FROM drivers WHERE approval_status = 'PENDING_APPROVAL'",
    "open_flags": "SELECT count(*) FROM fraud_flags WHERE status = 'OPEN'",
    "completed_rides": "SELECT count(*) FROM rides WHERE completed_at IS NOT NULL",
    "rated_rides": "SELECT count(DISTINCT ride_id) FROM ride_ratings",
    "rides_this_month": "SELECT count(*) FROM rides WHERE created_at > now() - interval '31 days'",
    "ledger_transactions": "SELECT count(*) FROM ledger_transactions",
    "live_sessions": "SELECT count(*) FROM auth_sessions WHERE revoked_at IS NULL",
    "audit_rows": "SELECT count(*) FROM audit_logs",
}


async def _counts(app) -> dict[str, int]:
    async with app.state.db.engine.connect() as conn:
        return {name: int(await conn.scalar(text(sql))) for name, sql in COUNTS.items()}


async def test_the_seed_gives_each_screen_a_history_that_verifies_and_a_second_run_adds_nothing(
    app, settings
):
    await seed_demo(settings)
    first = await _counts(app)
    assert first["p2p"] == len(P2P_PLAN)
    assert first["tagged"] == sum(1 for plan in P2P_PLAN if plan[4] is not None)
    assert first["budgets"] == len(BUDGETS)
    assert first["tickets"] == len(TICKETS) and first["staff_messages"] == 1
    assert first["pending_drivers"] == 1 and first["open_flags"] == 1
    assert first["completed_rides"] == first["rated_rides"] == first["rides_this_month"] == len(RIDES)
    assert first["live_sessions"] == 0  # the seed's sessions for its transfers were ended
    async with app.state.db.sessionmaker() as session:
        checked = await ledger.verify(session)
        assert checked.problems == [] and checked.transactions == first["ledger_transactions"]
        chain = await verify_chain(session)
        assert chain.ok and chain.rows == first["audit_rows"]
        trial = await ledger.trial_balance(session)
        assert trial.balanced

    await seed_demo(settings)
    assert await _counts(app) == first
