"""`POST /webhooks/efi/pix` over ASGI: authentication, applied-once, unmatched and flagged Pix."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from prometheus_client import REGISTRY

from laura.core.db import Database
from laura.pix.models import PaidCharge
from laura.pix.service import create_charge, register_paid_hook

from .conftest import WEBHOOK_SECRET, new_charge, rows, scalar

URL = "/webhooks/efi/pix"
SIGNED = f"{URL}?hmac={WEBHOOK_SECRET}&ignorar=/pix"


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    """Also accept the PSP's client certificate with this fingerprint (as the TLS terminator reports it).
    These tests are about what the intake does with a delivery it trusts, so confirmation with the PSP is off
    (tests/pix/test_webhook_confirmation.py has it on)."""
    return settings.model_copy(
        update={"psp_webhook_client_fingerprints": ["AB:CD:EF:01"], "pix_webhook_confirm": "off"}
    )


def e2e_id() -> str:
    return f"E09089356{datetime.now(UTC):%Y%m%d%H%M}{uuid.uuid4().hex[:11]}"


def pix_entry(txid: str | None, amount: str, e2e: str | None = None) -> dict:
    entry = {
        "endToEndId": e2e or e2e_id(),
        "chave": "pix@laura.example",
        "valor": amount,
        "horario": "2025-01-02T03:04:05.000Z",
    }
    if txid is not None:
        entry["txid"] = txid
    return entry


def delivered(outcome: str) -> float:
    return REGISTRY.get_sample_value("webhook_deliveries_total", {"outcome": outcome}) or 0.0


async def stored_deliveries(db: Database) -> int:
    return int(await scalar(db, "SELECT count(*) FROM webhook_deliveries"))  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["", "?hmac=", "?hmac=wrong-secret", f"?HMAC={WEBHOOK_SECRET}"])
async def test_a_delivery_without_the_right_hmac_is_refused_and_stored_nowhere(
    client: httpx.AsyncClient, db: Database, psp, owner, query: str
) -> None:
    charge = await new_charge(db, psp, owner)
    before = delivered("rejected")

    response = await client.post(URL + query, json={"pix": [pix_entry(charge.txid, "42.50")]})

    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHORIZED"
    assert await stored_deliveries(db) == 0
    assert await scalar(db, "SELECT count(*) FROM financial_events") == 0
    assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=charge.txid) == "ACTIVE"
    assert delivered("rejected") == before + 1


async def test_a_paid_charge_is_applied_once_and_a_duplicate_changes_nothing(
    client: httpx.AsyncClient, db: Database, psp, owner
) -> None:
    charge = await new_charge(db, psp, owner)
    body = {"pix": [pix_entry(charge.txid, "42.50")]}

    first = await client.post(SIGNED, json=body)
    again = await client.post(SIGNED, json=body)
    reworded = await client.post(
        SIGNED, content=json.dumps(body, indent=2), headers={"content-type": "application/json"}
    )

    assert first.status_code == 200 and first.json() == {"outcome": "applied", "pix": 1}
    assert again.status_code == 200 and again.json() == {"outcome": "duplicate", "pix": 0}
    assert reworded.status_code == 200 and reworded.json() == {"outcome": "duplicate", "pix": 1}
    assert await rows(db, "SELECT kind, ref, amount_cents FROM pix_test_effects") == [
        ("paid", charge.txid, 4250)
    ]
    paid = (await rows(db, "SELECT status, e2e_id, paid_at FROM pix_charges WHERE txid = :t", t=charge.txid))[
        0
    ]
    assert paid.status == "PAID" and paid.e2e_id == body["pix"][0]["endToEndId"]
    assert paid.paid_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    events = await rows(db, "SELECT external_id, kind, status, source, amount_cents FROM financial_events")
    assert events == [(paid.e2e_id, "pix.received", "applied", "webhook", 4250)]
    # Identical bytes are one delivery; a re-serialized copy is a second delivery that applied nothing.
    stored = await rows(
        db,
        "SELECT auth, pix_count, error, (SELECT count(*) FROM financial_events f WHERE f.delivery_id = d.id)"
        " FROM webhook_deliveries d ORDER BY id",
    )
    assert stored == [("hmac", 1, None, 1), ("hmac", 1, None, 0)]


async def test_concurrent_copies_of_one_pix_apply_once(
    client: httpx.AsyncClient, db: Database, psp, owner
) -> None:
    charge = await new_charge(db, psp, owner)
    entry = pix_entry(charge.txid, "42.50")
    # Twenty different deliveries (different bytes) of the same Pix, at once.
    bodies = [json.dumps({"pix": [entry], "copy": n}) for n in range(20)]

    answers = await asyncio.gather(
        *(client.post(SIGNED, content=b, headers={"content-type": "application/json"}) for b in bodies)
    )

    assert sorted(a.json()["outcome"] for a in answers) == ["applied"] + ["duplicate"] * 19
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 1
    assert await scalar(db, "SELECT count(*) FROM financial_events") == 1
    assert await stored_deliveries(db) == 20


async def test_an_unknown_txid_or_a_pix_without_txid_is_recorded_as_unmatched(
    client: httpx.AsyncClient, db: Database
) -> None:
    unknown, no_txid = pix_entry("UnknownTxid0000000000000000000001", "10.00"), pix_entry(None, "5.00")

    response = await client.post(SIGNED, json={"pix": [unknown, no_txid]})

    assert response.status_code == 200 and response.json() == {"outcome": "unmatched", "pix": 2}
    recorded = await rows(
        db, "SELECT external_id, status, reason, txid, amount_cents FROM financial_events ORDER BY id"
    )
    assert sorted(recorded) == sorted(
        [
            (unknown["endToEndId"], "unmatched", "unknown_txid", unknown["txid"], 1000),
            (no_txid["endToEndId"], "unmatched", "no_txid", None, 500),
        ]
    )
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 0


async def test_the_outcome_of_a_send_we_do_not_know_is_recorded_as_unmatched(
    client: httpx.AsyncClient, db: Database
) -> None:
    entry = {
        **pix_entry(None, "80.00"),
        "tipo": "SOLICITACAO",
        "status": "REALIZADO",
        "favorecido": {"chave": "driver@example.com"},
        "gnExtras": {"idEnvio": "NotOurs123"},
    }

    response = await client.post(SIGNED, json={"pix": [entry]})
    again = await client.post(SIGNED, json={"pix": [entry], "retry": 1})

    assert response.json() == {"outcome": "unmatched", "pix": 1}
    assert again.json() == {"outcome": "duplicate", "pix": 1}
    assert await rows(db, "SELECT kind, status, reason, id_envio, amount_cents FROM financial_events") == [
        ("pix.sent", "unmatched", "unknown_id_envio", "NotOurs123", 8000)
    ]


async def test_a_wrong_amount_is_recorded_and_flagged_but_not_applied(
    client: httpx.AsyncClient, db: Database, psp, owner
) -> None:
    charge = await new_charge(db, psp, owner)
    entry = pix_entry(charge.txid, "42.49")

    response = await client.post(SIGNED, json={"pix": [entry]})

    assert response.json() == {"outcome": "unmatched", "pix": 1}
    assert await rows(db, "SELECT status, reason, amount_cents FROM financial_events") == [
        ("flagged", "amount_mismatch", 4249)
    ]
    assert await rows(db, "SELECT status, review_reason FROM pix_charges WHERE txid = :t", t=charge.txid) == [
        ("ACTIVE", "amount_mismatch")
    ]
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 0


async def test_an_unreadable_delivery_is_kept_and_refused(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post(SIGNED, json={"pix": [{"txid": "no e2e, no amount"}]})
    not_json = await client.post(SIGNED, content=b"{oops", headers={"content-type": "application/json"})
    sub_cent = await client.post(SIGNED, json={"pix": [pix_entry(None, "10.001")]})

    assert response.status_code == 400 and response.json()["error"] == "INVALID_WEBHOOK_PAYLOAD"
    assert not_json.status_code == 400 and sub_cent.status_code == 400
    errors = [row.error for row in await rows(db, "SELECT error FROM webhook_deliveries ORDER BY id")]
    assert errors[0].startswith("unreadable Pix entry: KeyError") and errors[1] == "not JSON"
    assert errors[2].startswith("unreadable Pix entry: ValueError")
    assert await scalar(db, "SELECT count(*) FROM financial_events") == 0


async def test_a_nul_character_in_a_delivery_is_kept_and_refused_not_a_500(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(SIGNED, json={"pix": [pix_entry("txid\u0000evil", "10.00", e2e="E\u0000")]})

    assert response.status_code == 400 and response.json()["error"] == "INVALID_WEBHOOK_PAYLOAD"
    assert [row.error for row in await rows(db, "SELECT error FROM webhook_deliveries")] == [
        "a text holds the NUL character (U+0000)"
    ]
    assert await scalar(db, "SELECT count(*) FROM financial_events") == 0


async def test_the_registration_ping_without_pix_is_acknowledged(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(SIGNED, json={"evento": "teste_webhook"})

    assert response.status_code == 200 and response.json() == {"outcome": "unmatched", "pix": 0}


async def test_a_certificate_verified_by_the_tls_terminator_authenticates(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-Fingerprint": "abcdef01"}

    accepted = await client.post(URL, json={"pix": []}, headers=headers)
    unverified = await client.post(
        URL, json={"pix": [], "n": 1}, headers={**headers, "X-SSL-Client-Verify": "FAILED:x"}
    )
    other_cert = await client.post(
        URL, json={"pix": [], "n": 2}, headers={**headers, "X-SSL-Client-Fingerprint": "abcdef02"}
    )

    assert accepted.status_code == 200
    assert (unverified.status_code, other_cert.status_code) == (401, 401)
    assert await rows(db, "SELECT auth FROM webhook_deliveries") == [("mtls",)]


async def test_certificate_headers_from_an_untrusted_peer_are_ignored(app, db: Database) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as outsider:
        response = await outsider.post(
            URL,
            json={"pix": []},
            headers={"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-Fingerprint": "abcdef01"},
        )

    assert response.status_code == 401
    assert await stored_deliveries(db) == 0


async def test_a_failing_effect_stores_nothing_so_the_psp_retry_applies_the_pix(
    app, db: Database, psp, owner
) -> None:
    charge = await new_charge(db, psp, owner)
    body = json.dumps({"pix": [pix_entry(charge.txid, "42.50")]})
    headers = {"content-type": "application/json"}
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION pix_test_record_payment(p_charge pix_charges, p_pix jsonb, p_context jsonb)"
            " RETURNS void LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the effect failed'; END $$"
        )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        failed = await client.post(SIGNED, content=body, headers=headers)

        assert failed.status_code == 500
        assert await stored_deliveries(db) == 0
        assert await scalar(db, "SELECT count(*) FROM financial_events") == 0
        assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=charge.txid) == "ACTIVE"

        async with db.engine.begin() as connection:
            await connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION pix_test_record_payment(p_charge pix_charges, p_pix jsonb,"
                " p_context jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO pix_test_effects"
                " (kind, ref, amount_cents) VALUES ('paid', p_charge.txid, p_charge.amount_cents) $$"
            )
        retried = await client.post(SIGNED, content=body, headers=headers)

    assert retried.status_code == 200 and retried.json() == {"outcome": "applied", "pix": 1}
    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("paid", charge.txid)]
    assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=charge.txid) == "PAID"


async def test_a_delivery_with_a_received_pix_and_a_send_outcome_applies_both_in_one_transaction(
    client: httpx.AsyncClient, db: Database, psp, owner
) -> None:
    charge = await new_charge(db, psp, owner)
    received = pix_entry(charge.txid, "42.50")
    send = {
        **pix_entry(None, "80.00"),
        "tipo": "SOLICITACAO",
        "status": "REALIZADO",
        "favorecido": {"chave": "driver@example.com"},
        "gnExtras": {"idEnvio": "NotOurs456"},
    }
    before = (
        REGISTRY.get_sample_value("pix_charges_total", {"purpose": "test.deposit", "status": "PAID"}) or 0.0
    )

    response = await client.post(SIGNED, json={"pix": [send, received]})

    assert response.status_code == 200 and response.json() == {"outcome": "applied", "pix": 2}
    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("paid", charge.txid)]
    assert await rows(db, "SELECT kind, status FROM financial_events ORDER BY kind") == [
        ("pix.received", "applied"),
        ("pix.sent", "unmatched"),
    ]
    assert (
        await scalar(
            db, "SELECT count(DISTINCT delivery_id) FROM financial_events WHERE delivery_id IS NOT NULL"
        )
        == 1
    )
    after = REGISTRY.get_sample_value("pix_charges_total", {"purpose": "test.deposit", "status": "PAID"})
    assert after == before + 1


HOOKED = "test.hooked"


async def _failing_hook(charge: PaidCharge) -> None:
    raise ConnectionError("the cache is down")


register_paid_hook(HOOKED, _failing_hook)


async def test_a_failing_after_commit_hook_is_logged_and_the_pix_stays_applied(
    client: httpx.AsyncClient, db: Database, psp, owner, capsys
) -> None:
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(
            f"INSERT INTO pix_charge_purposes (purpose, effect)"
            f" VALUES ('{HOOKED}', 'pix_test_record_payment(pix_charges, jsonb, jsonb)')"
        )
    async with db.unit_of_work() as session:
        charge = await create_charge(
            session, psp, purpose=HOOKED, entity_id="hooked-1", owner_id=owner, amount=Decimal("7.00")
        )
    applied_before = delivered("applied")

    capsys.readouterr()
    response = await client.post(SIGNED, json={"pix": [pix_entry(charge.txid, "7.00")]})
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    assert response.status_code == 200 and response.json() == {"outcome": "applied", "pix": 1}
    assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=charge.txid) == "PAID"
    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("paid", charge.txid)]
    assert delivered("applied") == applied_before + 1
    failures = [entry for entry in logs if entry["event"] == "pix.paid_hook.failed"]
    assert [(f["purpose"], f["txid"], f["level"]) for f in failures] == [(HOOKED, charge.txid, "error")]
    assert "the cache is down" in failures[0]["exception"]
