"""The sandbox pays charges and delivers Efí webhooks over real HTTP to the app on a real port; reconciliation
finds what the sandbox dropped. Everything counts once."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client import REGISTRY

from laura.core.db import Database
from laura.pix.tasks import reconcile

from .conftest import PIX_KEY, new_charge, rows, scalar
from .sandbox.fixtures import wait_until


async def deliveries(control: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await control.get("/sandbox/webhooks")).json()["deliveries"])


def missed() -> float:
    return REGISTRY.get_sample_value("webhooks_missed_total") or 0.0


async def run_reconcile(db: Database, psp, **options):  # type: ignore[no-untyped-def]
    return await reconcile(db, psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=100, **options)


async def test_the_webhook_is_registered_like_efi_expects(
    control: httpx.AsyncClient, api_token: str, webhook_registered: str, live_url: str
) -> None:
    registered = await control.get(f"/v2/webhook/{PIX_KEY}", headers={"Authorization": f"Bearer {api_token}"})

    assert registered.json()["webhookUrl"] == f"{live_url}/webhooks/efi/pix?hmac=test-webhook-secret&ignorar="
    assert webhook_registered == f"{live_url}/webhooks/efi/pix"


async def test_a_payment_delivered_five_times_at_once_is_applied_once(
    db: Database, psp, owner, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    charge = await new_charge(db, psp, owner)
    (await control.post("/sandbox/faults", json={"webhook": "duplicate", "copies": 5})).raise_for_status()

    paid = (await control.post(f"/sandbox/cob/{charge.txid}/pay")).json()

    async def all_delivered() -> list[dict[str, Any]]:
        done = [d for d in await deliveries(control) if d["outcome"] == "delivered"]
        return done if len(done) == 5 else []

    log = await wait_until(all_delivered)
    assert sorted(d["copy"] for d in log) == [1, 2, 3, 4, 5] and {d["status"] for d in log} == {200}
    assert await rows(db, "SELECT kind, ref, e2e_id, amount_cents FROM pix_test_effects") == [
        ("paid", charge.txid, paid["endToEndId"], 4250)
    ]
    assert await rows(db, "SELECT external_id, status, source FROM financial_events") == [
        (paid["endToEndId"], "applied", "webhook")
    ]
    assert await rows(db, "SELECT status, e2e_id FROM pix_charges WHERE txid = :t", t=charge.txid) == [
        ("PAID", paid["endToEndId"])
    ]
    # The five copies are byte-identical: one stored delivery, the other four answered as duplicates.
    assert await rows(
        db,
        "SELECT d.pix_count, d.error FROM webhook_deliveries d JOIN financial_events f ON f.delivery_id = d.id",
    ) == [(1, None)]
    assert await scalar(db, "SELECT count(*) FROM webhook_deliveries") == 1


async def test_a_dropped_webhook_is_found_by_reconciliation_and_applied_once(
    db: Database, psp, owner, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    charge = await new_charge(db, psp, owner)
    (await control.post("/sandbox/faults", json={"webhook": "drop"})).raise_for_status()
    paid = (await control.post(f"/sandbox/cob/{charge.txid}/pay")).json()
    assert [d["outcome"] for d in await deliveries(control)] == ["dropped"]
    assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=charge.txid) == "ACTIVE"
    before = missed()

    first = await run_reconcile(db, psp)
    second = await run_reconcile(db, psp)

    assert first.charges == {"applied": 1}
    assert second.charges == {}
    assert missed() == before + 1
    assert await rows(db, "SELECT kind, e2e_id FROM pix_test_effects") == [("paid", paid["endToEndId"])]
    assert await rows(db, "SELECT status, source, delivery_id FROM financial_events") == [
        ("applied", "reconciliation", None)
    ]
    assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=charge.txid) == "PAID"
    assert await scalar(db, "SELECT count(*) FROM webhook_deliveries") == 0


async def test_a_wrong_amount_paid_through_the_psp_is_recorded_not_applied(
    db: Database, psp, owner, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    charge = await new_charge(db, psp, owner, amount="42.50")

    await control.post(f"/sandbox/cob/{charge.txid}/pay", json={"valor": "40.00"})
    await wait_until(lambda: scalar(db, "SELECT count(*) FROM financial_events"))
    report = await run_reconcile(db, psp)

    assert await rows(db, "SELECT status, reason, amount_cents FROM financial_events") == [
        ("flagged", "amount_mismatch", 4000)
    ]
    assert await rows(db, "SELECT status, review_reason FROM pix_charges") == [("ACTIVE", "amount_mismatch")]
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 0
    # Reconciliation leaves a charge waiting for ops alone.
    assert report.charges == {}
