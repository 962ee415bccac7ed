"""Transfer receipts (PDF, owner only) and the transfers_total / bill_payments_total counters."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY

from tests.bank.support import funded_customer


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_receipt_is_a_pdf_for_the_owner_only(app, client):
    _, headers = await funded_customer(app, client, "100.00")
    recipient, r_headers = await funded_customer(app, client)
    before = _count("transfers_total", type="P2P", status="COMPLETED")
    transfer = await client.post(
        "/api/transfers/p2p", json={"recipientUserId": recipient["id"], "amount": 12.5}, headers=headers
    )
    assert transfer.status_code == 201
    receipt = await client.get(f"/api/transfers/{transfer.json()['id']}/receipt", headers=headers)
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")
    assert (
        await client.get(f"/api/transfers/{transfer.json()['id']}/receipt", headers=r_headers)
    ).status_code == 404
    assert (await client.get(f"/api/transfers/{uuid.uuid4()}/receipt", headers=headers)).status_code == 404
    assert _count("transfers_total", type="P2P", status="COMPLETED") == before + 1
    metrics = (await client.get("/metrics")).text
    assert "transfers_total{" in metrics and "bill_payments_total" in metrics
