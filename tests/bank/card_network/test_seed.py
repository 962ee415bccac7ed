"""The demo seed's month of card purchases: through the authorization service, spread over 30 days, most
captured, every category of the catalogue, and a rerun that changes nothing."""

from __future__ import annotations

from laura.bank.card_network.seed import seed_card_purchases
from laura.core.db import execute
from tests.bank.card_network.support import make_card, verify_clean
from tests.helpers import auth_headers
from tests.sql_support import rows, scalar


async def execute_sql(app, sql: str, *args) -> None:
    async with app.state.db.unit_of_work() as session:
        await execute(session, sql, *args)


async def test_a_month_of_purchases_once(app, client, settings) -> None:
    ana, _ = await auth_headers(client, email="ana@laura.dev")
    await make_card(app, ana["id"])
    db = app.state.db

    answered = await seed_card_purchases(settings)

    statuses = dict(await rows(db, "SELECT status, count(*) FROM card_transactions GROUP BY status"))
    assert answered == sum(statuses.values()) > 30
    assert statuses["CAPTURED"] > answered / 2 and "DECLINED" not in statuses
    categories = {row[0] for row in await rows(db, "SELECT DISTINCT category FROM card_transactions")}
    assert {"FOOD", "TRANSPORT", "HEALTH", "LEISURE", "SHOPPING"} <= categories
    assert await scalar(
        db, "SELECT max(created_at) - min(created_at) > interval '20 days' FROM card_transactions"
    )
    held = await scalar(
        db,
        "SELECT bool_and(created_at > now() - interval '3 days') FROM card_transactions WHERE status = 'AUTHORIZED'",
    )
    assert held is not False
    ledger_rows = await scalar(db, "SELECT count(*) FROM ledger_transactions")

    assert await seed_card_purchases(settings) == answered
    assert await scalar(db, "SELECT count(*) FROM ledger_transactions") == ledger_rows
    assert dict(await rows(db, "SELECT status, count(*) FROM card_transactions GROUP BY status")) == statuses
    await verify_clean(app)


async def test_customers_without_a_card_are_skipped(app, client, settings) -> None:
    bruno, _ = await auth_headers(client, email="bruno@laura.dev")
    await execute_sql(app, "DELETE FROM cards WHERE user_id = $1", bruno["id"])  # registration issued one

    assert await seed_card_purchases(settings) == 0
