"""Charges: created at the PSP (sandbox) then stored, read by their owner, cancelled, expired by
reconciliation; an orphan left by a rolled back transaction never reaches the books."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from prometheus_client import REGISTRY

from laura.core.db import Database
from laura.pix.brcode import parse_brcode
from laura.pix.errors import ChargeNotActive
from laura.pix.service import cancel_charge, create_charge
from laura.pix.tasks import reconcile
from tests.helpers import auth_headers

from .conftest import PIX_KEY, PURPOSE, new_charge, rows, scalar
from .sandbox.fixtures import wait_until


def charges_counted(status: str) -> float:
    return REGISTRY.get_sample_value("pix_charges_total", {"purpose": PURPOSE, "status": status}) or 0.0


async def test_a_charge_is_created_at_the_psp_and_stored(
    db: Database, psp, owner, api_token: str, control
) -> None:
    before = charges_counted("ACTIVE")

    charge = await new_charge(db, psp, owner, amount="42.50", description="Depósito")

    remote = (
        await control.get(f"/v2/cob/{charge.txid}", headers={"Authorization": f"Bearer {api_token}"})
    ).json()
    assert remote["valor"]["original"] == "42.50" and remote["chave"] == PIX_KEY
    row = (await rows(db, "SELECT * FROM pix_charges"))[0]
    assert (row.txid, row.purpose, row.owner_id, row.amount_cents, row.status) == (
        charge.txid,
        PURPOSE,
        owner,
        4250,
        "ACTIVE",
    )
    assert row.pix_copia_e_cola == remote["pixCopiaECola"] and row.location == remote["location"]
    assert parse_brcode(row.pix_copia_e_cola).amount == Decimal("42.50")
    assert abs((row.expires_at - row.created_at) - timedelta(hours=1)) < timedelta(seconds=5)
    assert charges_counted("ACTIVE") == before + 1


async def test_a_purpose_without_handler_is_refused_before_calling_the_psp(db: Database, psp, owner) -> None:
    with pytest.raises(LookupError):
        async with db.unit_of_work() as session:
            await create_charge(
                session, psp, purpose="nobody.handles", entity_id="x", owner_id=owner, amount=Decimal("1.00")
            )


async def test_a_charge_whose_transaction_rolled_back_is_paid_into_nothing(
    db: Database, psp, owner, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as session:
            orphan = await create_charge(
                session, psp, purpose=PURPOSE, entity_id="e", owner_id=owner, amount=Decimal("9.90")
            )
            raise RuntimeError("the caller failed after the PSP created the charge")

    await control.post(f"/sandbox/cob/{orphan.txid}/pay")
    await wait_until(lambda: scalar(db, "SELECT count(*) FROM financial_events"))

    assert await scalar(db, "SELECT count(*) FROM pix_charges") == 0
    assert await rows(db, "SELECT status, reason, txid FROM financial_events") == [
        ("unmatched", "unknown_txid", orphan.txid)
    ]
    assert await scalar(db, "SELECT count(*) FROM pix_test_effects") == 0


async def test_the_owner_reads_the_charge_and_anyone_else_gets_404(
    client: httpx.AsyncClient, db: Database, psp
) -> None:
    user, headers = await auth_headers(client)
    _, other = await auth_headers(client)
    charge = await new_charge(db, psp, uuid.UUID(user["id"]), amount="15.00")

    mine = await client.get(f"/pix/charges/{charge.txid}", headers=headers)
    theirs = await client.get(f"/pix/charges/{charge.txid}", headers=other)
    anonymous = await client.get(f"/pix/charges/{charge.txid}")

    assert mine.status_code == 200
    body = mine.json()
    assert body["txid"] == charge.txid and body["amount"] == 15.0 and body["status"] == "ACTIVE"
    assert body["pixCopiaECola"] == charge.pix_copia_e_cola and body["qrCode"].startswith(
        "data:image/png;base64,"
    )
    assert body["expiresAt"].endswith("Z") and body["paidAt"] is None
    assert theirs.status_code == 404 and theirs.json()["error"] == "PIX_CHARGE_NOT_FOUND"
    assert anonymous.status_code == 401


async def test_a_cancelled_charge_can_no_longer_be_paid(
    db: Database, psp, owner, control: httpx.AsyncClient
) -> None:
    charge = await new_charge(db, psp, owner)

    async with db.unit_of_work() as session:
        await cancel_charge(session, psp, txid=charge.txid)
    paying = await control.post(f"/sandbox/cob/{charge.txid}/pay")

    assert await scalar(db, "SELECT status FROM pix_charges") == "CANCELLED"
    assert paying.status_code == 409
    with pytest.raises(ChargeNotActive):
        async with db.unit_of_work() as session:
            await cancel_charge(session, psp, txid=charge.txid)


async def test_reconciliation_expires_what_the_psp_no_longer_accepts(db: Database, psp, owner) -> None:
    expiring = await new_charge(db, psp, owner, expires_in=60)
    lasting = await new_charge(db, psp, owner, expires_in=7200)
    before = charges_counted("EXPIRED")

    report = await reconcile(
        db,
        psp,
        payer_key=PIX_KEY,
        grace_seconds=0,
        batch_size=100,
        now=datetime.now(UTC) + timedelta(minutes=5),
    )

    assert report.charges == {"expired": 1, "open": 1}
    assert dict(await rows(db, "SELECT txid, status FROM pix_charges")) == {
        expiring.txid: "EXPIRED",
        lasting.txid: "ACTIVE",
    }
    assert charges_counted("EXPIRED") == before + 1


async def test_a_charge_just_past_its_expiry_is_left_open_for_a_late_payment(
    db: Database, psp, owner
) -> None:
    await new_charge(db, psp, owner, expires_in=60)

    report = await reconcile(
        db,
        psp,
        payer_key=PIX_KEY,
        grace_seconds=0,
        batch_size=100,
        now=datetime.now(UTC) + timedelta(seconds=90),
    )

    assert report.charges == {"open": 1}


async def test_reconciliation_waits_for_the_grace_period(db: Database, psp, owner) -> None:
    await new_charge(db, psp, owner, expires_in=60)

    report = await reconcile(db, psp, payer_key=PIX_KEY, grace_seconds=600, batch_size=100)

    assert report.charges == {}


def orphans_counted() -> float:
    return REGISTRY.get_sample_value("pix_charges_orphaned_total") or 0.0


async def test_a_charge_the_psp_forgot_expires_once_past_its_expiry_and_is_counted(
    db: Database, psp, owner, control: httpx.AsyncClient, capfd
) -> None:
    expired = await new_charge(db, psp, owner, expires_in=60)
    lasting = await new_charge(db, psp, owner, expires_in=7200)
    (await control.post("/sandbox/reset")).raise_for_status()  # the PSP restarted and lost its charges
    before, expired_before = orphans_counted(), charges_counted("EXPIRED")
    later = datetime.now(UTC) + timedelta(minutes=5)

    first = await reconcile(db, psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=100, now=later)
    second = await reconcile(db, psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=100, now=later)

    assert first.charges == {"orphaned": 1, "unknown": 1}
    assert second.charges == {"unknown": 1}
    assert dict(await rows(db, "SELECT txid, status FROM pix_charges")) == {
        expired.txid: "EXPIRED",
        lasting.txid: "ACTIVE",
    }
    assert orphans_counted() == before + 1
    assert charges_counted("EXPIRED") == expired_before + 1
    logged = capfd.readouterr().out
    assert "pix.charge.orphaned" in logged and "pix.reconcile.item_failed" not in logged


async def test_a_charge_the_psp_forgot_is_left_open_until_its_expiry(
    db: Database, psp, owner, control: httpx.AsyncClient
) -> None:
    charge = await new_charge(db, psp, owner, expires_in=600)
    (await control.post("/sandbox/reset")).raise_for_status()
    before = orphans_counted()

    report = await reconcile(db, psp, payer_key=PIX_KEY, grace_seconds=0, batch_size=100)

    assert report.charges == {"unknown": 1}
    assert await rows(db, "SELECT txid, status FROM pix_charges") == [(charge.txid, "ACTIVE")]
    assert orphans_counted() == before
