"""`bank_deposit_credit` (laura/bank/deposits/sql/deposit_credit.sql), the "bank.deposit" purpose's effect,
called directly with SQL: it books the deposit into the customer's account with its event and audit row,
and a replay books nothing."""

from __future__ import annotations

import json
import secrets
import uuid
from decimal import Decimal

from laura.audit.service import verify_chain
from laura.bank.accounts.service import PIX_CLEARING, ledger_code
from laura.bank.deposits.service import PURPOSE
from tests.bank.support import balance, funded_customer
from tests.sql_support import rows, scalar

CONTEXT = json.dumps({"chain": 3, "ip": "203.0.113.9", "user_agent": "psp", "request_id": "req-9"})


async def _credit(db, txid: str, e2e: str) -> None:
    await scalar(
        db,
        "SELECT bank_deposit_credit(c, $2::jsonb, $3::jsonb) FROM pix_charges c WHERE c.txid = $1",
        txid,
        json.dumps({"endToEndId": e2e, "valor": "25.00"}),
        CONTEXT,
    )


async def test_a_deposit_is_booked_published_and_audited_once(app, client) -> None:
    db = app.state.db
    user, headers = await funded_customer(app, client)
    txid, e2e = secrets.token_hex(16), "E" + secrets.token_hex(15)
    await scalar(
        db,
        "INSERT INTO pix_charges (txid, purpose, entity_id, owner_id, amount_cents, pix_copia_e_cola, expires_at)"
        " VALUES ($1, $2, 'dep-1', $3, 2500, 'brcode', now() + interval '1 hour') RETURNING 1",
        txid,
        PURPOSE,
        uuid.UUID(user["id"]),
    )

    await _credit(db, txid, e2e)
    await _credit(db, txid, e2e)

    assert await balance(client, headers) == Decimal("25.00")
    assert await rows(
        db,
        "SELECT t.reference, t.external_ref, a.code, e.direction FROM ledger_transactions t"
        " JOIN ledger_entries e ON e.transaction_id = t.id JOIN ledger_accounts a ON a.id = e.account_id"
        " WHERE t.reason = 'PIX_DEPOSIT' ORDER BY e.direction DESC",
    ) == [(f"deposit:{txid}", e2e, PIX_CLEARING, "D"), (f"deposit:{txid}", e2e, ledger_code(user["id"]), "C")]
    assert await rows(db, "SELECT data::text FROM outbox WHERE type = 'deposit.received'") == [
        (json.dumps({"txid": txid, "e2eId": e2e, "amount": "25.00", "depositId": "dep-1"}),)
    ]
    assert await rows(
        db,
        "SELECT chain, actor_id::text, ip, request_id, new_values::text FROM audit_logs"
        " WHERE action = 'DEPOSIT_RECEIVED'",
    ) == [
        (3, user["id"], "203.0.113.9", "req-9", json.dumps({"txid": txid, "e2eId": e2e, "amountCents": 2500}))
    ]
    async with db.sessionmaker() as session:
        assert (await verify_chain(session)).ok
