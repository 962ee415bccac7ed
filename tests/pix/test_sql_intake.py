"""`pix_apply_received` and `pix_ingest_delivery` (laura/pix/sql/intake.sql) called directly with SQL: each
outcome and reason, what each records, and that a Pix or a delivery counts once."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from laura.core.db import Database
from laura.pix.outcomes import ReceivedPixOutcome, ReceivedPixReason
from tests.helpers import auth_headers
from tests.sql_support import call, call_rows, rows, scalar

from .conftest import PURPOSE

CONTEXT = json.dumps({"chain": 0, "ip": None, "user_agent": None, "request_id": "req-1"})
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _txid() -> str:
    return secrets.token_hex(16)


def _e2e() -> str:
    return "E" + secrets.token_hex(15)[:31]


async def _charge(db: Database, owner: str, cents: int = 42_50, status: str = "ACTIVE") -> str:
    txid = _txid()
    await scalar(
        db,
        "INSERT INTO pix_charges (txid, purpose, entity_id, owner_id, amount_cents, status, pix_copia_e_cola,"
        " expires_at) VALUES ($1, $2, 'entity-1', $3, $4, $5, 'brcode', now() + interval '1 hour') RETURNING 1",
        txid,
        PURPOSE,
        uuid.UUID(owner),
        cents,
        status,
    )
    return txid


async def _apply(db: Database, txid: str | None, cents: int = 42_50, e2e: str | None = None):
    e2e = e2e or _e2e()
    return await call(
        db,
        "pix_apply_received",
        txid=txid,
        e2e_id=e2e,
        amount_cents=cents,
        occurred_at=WHEN,
        payload=json.dumps({"endToEndId": e2e, "txid": txid}),
        source="reconciliation",
        delivery_id=None,
        context=CONTEXT,
    )


@pytest.fixture
async def owner(client) -> str:
    user, _ = await auth_headers(client)
    return user["id"]


async def test_an_active_charge_of_the_amount_is_applied_once_and_its_effect_runs(
    db: Database, owner: str
) -> None:
    txid = await _charge(db, owner)
    e2e = _e2e()

    applied = await _apply(db, txid, e2e=e2e)
    again = await _apply(db, txid, e2e=e2e)

    assert (applied["outcome"], applied["reason"], applied["charge"]["status"]) == (
        ReceivedPixOutcome.APPLIED,
        None,
        "PAID",
    )
    assert again["outcome"] == ReceivedPixOutcome.DUPLICATE
    assert await rows(db, "SELECT kind, ref, e2e_id FROM pix_test_effects") == [("paid", txid, e2e)]
    assert await rows(db, "SELECT status, paid_at, e2e_id FROM pix_charges WHERE txid = $1", txid) == [
        ("PAID", WHEN, e2e)
    ]


@pytest.mark.parametrize(
    ("case", "outcome", "reason"),
    [
        ("no_txid", ReceivedPixOutcome.UNMATCHED, ReceivedPixReason.NO_TXID),
        ("unknown_txid", ReceivedPixOutcome.UNMATCHED, ReceivedPixReason.UNKNOWN_TXID),
        ("not_active", ReceivedPixOutcome.FLAGGED, ReceivedPixReason.CHARGE_NOT_ACTIVE),
        ("amount", ReceivedPixOutcome.FLAGGED, ReceivedPixReason.AMOUNT_MISMATCH),
    ],
)
async def test_a_pix_not_applied_is_recorded_with_its_reason(
    db: Database, owner: str, case: str, outcome: ReceivedPixOutcome, reason: ReceivedPixReason
) -> None:
    txid = {
        "no_txid": None,
        "unknown_txid": _txid(),
        "not_active": await _charge(db, owner, status="EXPIRED"),
        "amount": await _charge(db, owner),
    }[case]
    e2e = _e2e()

    row = await _apply(db, txid, cents=42_49 if case == "amount" else 42_50, e2e=e2e)

    assert (row["outcome"], row["reason"]) == (outcome, reason)
    assert await rows(db, "SELECT status, reason FROM financial_events WHERE external_id = $1", e2e) == [
        (outcome, reason)
    ]
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 0
    if case in ("not_active", "amount"):
        assert row["charge"]["review_reason"] == reason
        assert await scalar(db, "SELECT review_reason FROM pix_charges WHERE txid = $1", txid) == reason


async def test_a_flagged_charge_keeps_its_first_review_reason(db: Database, owner: str) -> None:
    txid = await _charge(db, owner)
    await _apply(db, txid, cents=1)
    await scalar(db, "UPDATE pix_charges SET status = 'EXPIRED' WHERE txid = $1 RETURNING 1", txid)
    second = await _apply(db, txid)
    assert second["reason"] == ReceivedPixReason.CHARGE_NOT_ACTIVE
    assert await scalar(db, "SELECT review_reason FROM pix_charges WHERE txid = $1", txid) == (
        ReceivedPixReason.AMOUNT_MISMATCH
    )


async def test_a_pix_into_a_charge_no_longer_active_runs_its_purposes_unapplied_effect_once(
    db: Database, owner: str
) -> None:
    await scalar(
        db,
        "CREATE FUNCTION pix_test_unapplied(p_charge pix_charges, p_pix jsonb, p_context jsonb) RETURNS void"
        " LANGUAGE sql AS $$ INSERT INTO pix_test_effects (kind, ref, e2e_id, amount_cents)"
        " VALUES ('unapplied', p_charge.txid, p_pix ->> 'endToEndId', p_charge.amount_cents) $$",
    )
    await scalar(
        db,
        "UPDATE pix_charge_purposes SET unapplied_effect = 'pix_test_unapplied(pix_charges, jsonb, jsonb)'"
        " WHERE purpose = $1 RETURNING 1",
        PURPOSE,
    )
    paid, mismatched = await _charge(db, owner), await _charge(db, owner)
    await _apply(db, paid)
    e2e = _e2e()

    second = await _apply(db, paid, e2e=e2e)
    replay = await _apply(db, paid, e2e=e2e)
    other_amount = await _apply(db, mismatched, cents=1)

    assert (second["outcome"], second["reason"]) == (
        ReceivedPixOutcome.FLAGGED,
        ReceivedPixReason.CHARGE_NOT_ACTIVE,
    )
    assert replay["outcome"] == ReceivedPixOutcome.DUPLICATE
    assert other_amount["reason"] == ReceivedPixReason.AMOUNT_MISMATCH
    assert await rows(db, "SELECT kind, ref, e2e_id FROM pix_test_effects ORDER BY id") == [
        ("paid", paid, await scalar(db, "SELECT e2e_id FROM pix_charges WHERE txid = $1", paid)),
        ("unapplied", paid, e2e),
    ]


async def test_a_delivery_is_stored_once_and_each_of_its_pix_applied_in_order(
    db: Database, owner: str
) -> None:
    paid, unknown = await _charge(db, owner), _txid()
    e2es = [_e2e(), _e2e()]
    body = json.dumps({"pix": e2es}).encode()
    args = {
        "sha256": hashlib.sha256(body).hexdigest(),
        "body": body,
        "auth": "hmac",
        "pix_count": 2,
        "error": None,
        "txids": [paid, unknown],
        "e2e_ids": e2es,
        "amounts": [42_50, 10_00],
        "occurred_at": [WHEN, WHEN + timedelta(seconds=1)],
        "payloads": json.dumps([{"endToEndId": e2e} for e2e in e2es]),
        "context": CONTEXT,
    }

    first = await call_rows(db, "pix_ingest_delivery", **args)
    again = await call_rows(db, "pix_ingest_delivery", **args)

    assert first[0]["delivery_id"] is not None and first[0]["outcome"] is None
    assert [(r["outcome"], r["reason"]) for r in first[1:]] == [
        (ReceivedPixOutcome.APPLIED, None),
        (ReceivedPixOutcome.UNMATCHED, ReceivedPixReason.UNKNOWN_TXID),
    ]
    assert [r["delivery_id"] for r in again] == [None]
    assert await rows(db, "SELECT external_id, source, delivery_id FROM financial_events ORDER BY id") == [
        (e2es[0], "webhook", first[0]["delivery_id"]),
        (e2es[1], "webhook", first[0]["delivery_id"]),
    ]
    assert await scalar(db, "SELECT count(*) FROM webhook_deliveries") == 1
