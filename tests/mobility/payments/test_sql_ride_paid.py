"""`mobility_ride_paid` (laura/mobility/payments/sql/ride_paid.sql), the "mobility.ride" purpose's effect,
called directly with SQL: a share of zero leaves its line out, and a replay books nothing."""

from __future__ import annotations

import json
import secrets

from tests.mobility.payments.support import completed_ride
from tests.sql_support import rows, scalar

CONTEXT = json.dumps({"chain": 3, "ip": "203.0.113.9", "user_agent": "psp", "request_id": "req-9"})


async def _paid(db, txid: str, e2e: str) -> None:
    await scalar(
        db,
        "SELECT mobility_ride_paid(c, $2::jsonb, $3::jsonb) FROM pix_charges c WHERE c.txid = $1",
        txid,
        json.dumps({"endToEndId": e2e}),
        CONTEXT,
    )


async def test_without_commission_the_whole_fare_is_the_drivers_and_a_replay_books_nothing(
    app, client
) -> None:
    db = app.state.db
    ride = await completed_ride(app, client)
    txid, e2e = secrets.token_hex(16), "E" + secrets.token_hex(15)
    await scalar(
        db,
        "WITH charge AS (INSERT INTO pix_charges (txid, purpose, entity_id, owner_id, amount_cents,"
        " pix_copia_e_cola, expires_at) SELECT $1, 'mobility.ride', i.id::text, i.payer_id, i.amount_cents,"
        " 'brcode', now() + interval '1 hour' FROM payment_intents i RETURNING entity_id)"
        " UPDATE payment_intents SET commission_cents = 0, txid = $1"
        " WHERE id = (SELECT entity_id::uuid FROM charge) RETURNING 1",
        txid,
    )

    await _paid(db, txid, e2e)
    await _paid(db, txid, e2e)

    fare = round(ride.fare * 100)
    assert await rows(
        db,
        "SELECT t.reference, a.code, e.direction::text, e.amount FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
        " WHERE t.entity_type = 'ride' ORDER BY t.reference, e.direction DESC, a.code",
    ) == [
        (f"ride-split:{txid}", "4100", "D", fare),
        (f"ride-split:{txid}", f"2100.{ride.driver.id}", "C", fare),
        (f"ride:{txid}", "1300", "D", fare),
        (f"ride:{txid}", "4100", "C", fare),
    ]
    assert await rows(db, "SELECT status FROM payment_intents") == [("CONFIRMED",)]
    assert await rows(db, "SELECT count(*) FROM outbox WHERE type = 'payment.confirmed'") == [(1,)]
