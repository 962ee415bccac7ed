"""A received Pix is applied only once the PSP (the sandbox, over HTTP) confirms it: a delivery signed with the
right secret but naming a Pix the PSP does not know, or knows with another amount or charge, credits nothing;
a PSP outage answers 503 and the PSP's retry applies it; in `mtls` mode a certificate delivery is trusted."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from laura.core.db import Database

from .conftest import WEBHOOK_SECRET, new_charge, rows, scalar
from .sandbox.fixtures import wait_until

URL = "/webhooks/efi/pix"
SIGNED = f"{URL}?hmac={WEBHOOK_SECRET}&ignorar=/pix"
CERTIFIED = {"X-SSL-Client-Verify": "SUCCESS", "X-SSL-Client-Fingerprint": "ab:cd:ef:01"}


def forged_pix(txid: str, amount: str) -> dict[str, Any]:
    """What an attacker who knows a charge (its QR code shows the txid and the amount) would post."""
    return {
        "endToEndId": f"E09089356{datetime.now(UTC):%Y%m%d%H%M}{uuid.uuid4().hex[:11]}",
        "txid": txid,
        "chave": "pix@laura.example",
        "valor": amount,
        "horario": "2025-01-02T03:04:05.000Z",
    }


def unconfirmed(reason: str) -> float:
    return REGISTRY.get_sample_value("pix_webhook_unconfirmed_total", {"reason": reason}) or 0.0


async def received_pix_lookups(control: httpx.AsyncClient) -> int:
    """How many times the PSP was asked for a received Pix (`GET /v2/pix/{e2eId}`)."""
    requests = (await control.get("/sandbox/stats")).json()["requests"]
    return sum(n for call, n in requests.items() if call.startswith("GET /v2/pix/"))


async def pay(control: httpx.AsyncClient, txid: str, **body: str) -> dict[str, Any]:
    """A real payment at the PSP; no webhook is registered unless the test asks, so only the test posts it."""
    response = await control.post(f"/sandbox/cob/{txid}/pay", json=body or None)
    response.raise_for_status()
    return dict(response.json())


async def nothing_paid(db: Database, txid: str) -> bool:
    return (
        await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=txid) == "ACTIVE"
        and await scalar(db, "SELECT count(*) FROM financial_events") == 0
        and await scalar(db, "SELECT count(*) FROM pix_test_effects") == 0
    )


async def test_a_forged_pix_naming_a_real_charge_with_the_right_secret_credits_nothing(
    client: httpx.AsyncClient, db: Database, psp, owner, control: httpx.AsyncClient, capsys
) -> None:
    charge = await new_charge(db, psp, owner, amount="100.00")
    before = unconfirmed("unknown_e2e_id")

    capsys.readouterr()
    response = await client.post(SIGNED, json={"pix": [forged_pix(charge.txid, "100.00")]})
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    assert response.status_code == 200 and response.json() == {"outcome": "unconfirmed", "pix": 1}
    assert await nothing_paid(db, charge.txid)
    assert unconfirmed("unknown_e2e_id") == before + 1
    assert await received_pix_lookups(control) == 1
    warned = [entry for entry in logs if entry["event"] == "pix.webhook.unconfirmed"]
    assert [(w["reason"], w["txid"], w["level"]) for w in warned] == [
        ("unknown_e2e_id", charge.txid, "warning")
    ]
    # Kept for ops as it came, with nothing applied from it.
    assert await rows(db, "SELECT auth, pix_count, error FROM webhook_deliveries") == [("hmac", 1, None)]


async def test_a_genuine_payment_through_the_sandbox_is_confirmed_and_credited_once(
    db: Database, psp, owner, control: httpx.AsyncClient, webhook_registered: str
) -> None:
    charge = await new_charge(db, psp, owner)
    (await control.post("/sandbox/faults", json={"webhook": "duplicate", "copies": 3})).raise_for_status()

    paid = await pay(control, charge.txid)

    await wait_until(lambda: _delivered(control, 3))
    assert await rows(db, "SELECT kind, ref, e2e_id, amount_cents FROM pix_test_effects") == [
        ("paid", charge.txid, paid["endToEndId"], 4250)
    ]
    assert await rows(db, "SELECT external_id, status, source FROM financial_events") == [
        (paid["endToEndId"], "applied", "webhook")
    ]
    assert await received_pix_lookups(control) >= 1


async def _delivered(control: httpx.AsyncClient, copies: int) -> bool:
    log = (await control.get("/sandbox/webhooks")).json()["deliveries"]
    return len([d for d in log if d["outcome"] == "delivered"]) == copies


async def test_a_real_pix_claimed_for_more_than_it_paid_credits_nothing(
    client: httpx.AsyncClient, db: Database, psp, owner, control: httpx.AsyncClient
) -> None:
    charge = await new_charge(db, psp, owner, amount="100.00")
    paid = await pay(control, charge.txid, valor="1.00")
    before = unconfirmed("amount_mismatch")

    # The PSP's own notification, with the amount raised to the charge's: the intake alone would apply it.
    response = await client.post(SIGNED, json={"pix": [{**paid, "valor": "100.00"}]})

    assert response.status_code == 200 and response.json() == {"outcome": "unconfirmed", "pix": 1}
    assert await nothing_paid(db, charge.txid)
    assert unconfirmed("amount_mismatch") == before + 1


async def test_a_real_pix_into_another_charge_credits_nothing(
    client: httpx.AsyncClient, db: Database, psp, owner, control: httpx.AsyncClient
) -> None:
    own, victim = await new_charge(db, psp, owner), await new_charge(db, psp, owner)
    paid = await pay(control, own.txid)
    before = unconfirmed("txid_mismatch")

    response = await client.post(SIGNED, json={"pix": [{**paid, "txid": victim.txid}]})

    assert response.json() == {"outcome": "unconfirmed", "pix": 1}
    assert await nothing_paid(db, victim.txid)
    assert unconfirmed("txid_mismatch") == before + 1


async def test_a_delivery_of_several_pix_applies_only_those_the_psp_confirms(
    client: httpx.AsyncClient, db: Database, psp, owner, control: httpx.AsyncClient
) -> None:
    first, second, forged = [await new_charge(db, psp, owner) for _ in range(3)]
    genuine = [await pay(control, first.txid), await pay(control, second.txid)]

    response = await client.post(SIGNED, json={"pix": [*genuine, forged_pix(forged.txid, "42.50")]})

    assert response.status_code == 200 and response.json() == {"outcome": "applied", "pix": 3}
    assert sorted(await rows(db, "SELECT ref, e2e_id FROM pix_test_effects")) == sorted(
        [(first.txid, genuine[0]["endToEndId"]), (second.txid, genuine[1]["endToEndId"])]
    )
    assert await scalar(db, "SELECT status FROM pix_charges WHERE txid = :t", t=forged.txid) == "ACTIVE"
    assert await received_pix_lookups(control) == 3


async def test_a_psp_outage_answers_503_stores_nothing_and_the_retry_applies_the_pix(
    client: httpx.AsyncClient, db: Database, psp, owner, control: httpx.AsyncClient
) -> None:
    charge = await new_charge(db, psp, owner)
    paid = await pay(control, charge.txid)
    body = json.dumps({"pix": [paid]})
    headers = {"content-type": "application/json"}
    # Every attempt of the client's (one and two retries) answered 500.
    fault = {"http500": {"path_prefix": "/v2/pix/", "count": 3}}
    (await control.post("/sandbox/faults", json=fault)).raise_for_status()
    before = unconfirmed("psp_unavailable")

    outage = await client.post(SIGNED, content=body, headers=headers)

    assert outage.status_code == 503 and outage.json()["error"] == "EXTERNAL_SERVICE_ERROR"
    assert await nothing_paid(db, charge.txid)
    assert await scalar(db, "SELECT count(*) FROM webhook_deliveries") == 0
    assert unconfirmed("psp_unavailable") == before + 1

    retried = await client.post(SIGNED, content=body, headers=headers)

    assert retried.status_code == 200 and retried.json() == {"outcome": "applied", "pix": 1}
    assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("paid", charge.txid)]


class TestMtlsMode:
    @pytest.fixture
    def settings(self, settings):  # type: ignore[no-untyped-def]
        return settings.model_copy(
            update={"psp_webhook_client_fingerprints": ["AB:CD:EF:01"], "pix_webhook_confirm": "mtls"}
        )

    async def test_a_certificate_delivery_is_applied_without_asking_the_psp(
        self, client: httpx.AsyncClient, db: Database, psp, owner, control: httpx.AsyncClient
    ) -> None:
        charge = await new_charge(db, psp, owner)

        response = await client.post(URL, json={"pix": [forged_pix(charge.txid, "42.50")]}, headers=CERTIFIED)

        assert response.status_code == 200 and response.json() == {"outcome": "applied", "pix": 1}
        assert await rows(db, "SELECT kind, ref FROM pix_test_effects") == [("paid", charge.txid)]
        assert await rows(db, "SELECT auth FROM webhook_deliveries") == [("mtls",)]
        assert await received_pix_lookups(control) == 0

    async def test_a_delivery_with_the_secret_alone_is_still_confirmed(
        self, client: httpx.AsyncClient, db: Database, psp, owner, control: httpx.AsyncClient
    ) -> None:
        charge = await new_charge(db, psp, owner)

        response = await client.post(SIGNED, json={"pix": [forged_pix(charge.txid, "42.50")]})

        assert response.json() == {"outcome": "unconfirmed", "pix": 1}
        assert await nothing_paid(db, charge.txid)
        assert await received_pix_lookups(control) == 1
