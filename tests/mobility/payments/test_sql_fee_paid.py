"""`mobility_cancellation_fee_paid` (laura/mobility/payments/sql/fee_paid.sql), the
"mobility.cancellation_fee" purpose's effect, called directly with SQL: a driver's share of the whole fee
leaves the commission line out, a replay books nothing, and the ride stays CANCELED."""

from __future__ import annotations

import json
import secrets

from tests.mobility.payments.support import canceled_with_fee
from tests.sql_support import rows, scalar

CONTEXT = json.dumps({"chain": 3, "ip": "203.0.113.9", "user_agent": "psp", "request_id": "req-9"})


async def _paid(db, txid: str, e2e: str) -> None:
    await scalar(
        db,
        "SELECT mobility_cancellation_fee_paid(c, $2::jsonb, $3::jsonb) FROM pix_charges c WHERE c.txid = $1",
        txid,
        json.dumps({"endToEndId": e2e}),
        CONTEXT,
    )


async def test_a_fee_all_the_drivers_has_no_commission_line_and_a_replay_books_nothing(app, client) -> None:
    db = app.state.db
    ride = await canceled_with_fee(app, client)
    txid, e2e = secrets.token_hex(16), "E" + secrets.token_hex(15)
    await scalar(
        db,
        "WITH charge AS (INSERT INTO pix_charges (txid, purpose, entity_id, owner_id, amount_cents,"
        " pix_copia_e_cola, expires_at) SELECT $1, 'mobility.cancellation_fee', i.id::text, i.payer_id,"
        " i.amount_cents, 'brcode', now() + interval '1 hour' FROM payment_intents i RETURNING entity_id)"
        " UPDATE payment_intents SET commission_cents = 0, txid = $1"
        " WHERE id = (SELECT entity_id::uuid FROM charge) RETURNING 1",
        txid,
    )

    await _paid(db, txid, e2e)
    await _paid(db, txid, e2e)

    assert await rows(
        db,
        "SELECT t.reference, t.reason, a.code, e.direction::text, e.amount FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
        " WHERE t.entity_type = 'ride' ORDER BY t.reference, e.direction DESC, a.code",
    ) == [
        (f"fee-split:{txid}", "CANCELLATION_FEE_SPLIT", "4100", "D", 500),
        (f"fee-split:{txid}", "CANCELLATION_FEE_SPLIT", f"2100.{ride.driver.id}", "C", 500),
        (f"fee:{txid}", "CANCELLATION_FEE", "1300", "D", 500),
        (f"fee:{txid}", "CANCELLATION_FEE", "4100", "C", 500),
    ]
    assert await rows(db, "SELECT status FROM payment_intents") == [("CONFIRMED",)]
    assert await rows(db, "SELECT status FROM rides") == [("CANCELED",)]
    confirmed = await rows(db, "SELECT data ->> 'purpose' FROM outbox WHERE type = 'payment.confirmed'")
    assert confirmed == [("CANCELLATION_FEE",)]
