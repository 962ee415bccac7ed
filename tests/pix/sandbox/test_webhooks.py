from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

import httpx

from .fixtures import PIX_KEY, Receiver, wait_until

TXID = "LauraWebhookTest000000000000001"
COB = {"calendario": {"expiracao": 3600}, "valor": {"original": "42.50"}, "chave": PIX_KEY}


async def deliveries(control: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await control.get("/sandbox/webhooks")
    return list(response.json()["deliveries"])


async def pay_new_charge(
    api: httpx.AsyncClient, control: httpx.AsyncClient, txid: str = TXID
) -> dict[str, Any]:
    (await api.put(f"/v2/cob/{txid}", json=COB)).raise_for_status()
    response = await control.post(f"/sandbox/cob/{txid}/pay", json={"infoPagador": "valeu"})
    response.raise_for_status()
    return dict(response.json())


async def test_register_read_and_delete_a_webhook(api: httpx.AsyncClient) -> None:
    key = "+5511999998888"

    put = await api.put(f"/v2/webhook/{key}", json={"webhookUrl": "https://laura.example/webhooks/efi"})
    got = await api.get(f"/v2/webhook/{key}")
    deleted = await api.delete(f"/v2/webhook/{key}")
    gone = await api.get(f"/v2/webhook/{key}")

    assert put.json() == {"webhookUrl": "https://laura.example/webhooks/efi"}
    assert got.json()["chave"] == key and got.json()["criacao"].endswith("Z")
    assert deleted.status_code == 204
    assert (gone.status_code, gone.json()["nome"]) == (404, "webhook_nao_encontrado")


async def test_payment_is_delivered_like_efi(
    api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"{receiver.url}/webhooks/efi/"})

    pix = await pay_new_charge(api, control)
    await wait_until(lambda: receiver.requests)

    request = receiver.requests[0]
    assert request["path"] == "/webhooks/efi/pix"
    entry = request["json"]["pix"][0]
    assert set(entry) == {"endToEndId", "txid", "chave", "valor", "horario", "infoPagador"}
    assert entry == pix
    assert entry["valor"] == "42.50" and entry["txid"] == TXID and entry["chave"] == PIX_KEY
    log = await wait_until(lambda: deliveries(control))
    assert [(d["attempt"], d["outcome"], d["status"]) for d in log] == [(1, "delivered", 200)]


async def test_delivery_is_retried_until_acknowledged(
    api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"{receiver.url}/hooks"})

    pix = await pay_new_charge(api, control)

    async def delivered() -> list[dict[str, Any]]:
        log = await deliveries(control)
        return log if any(d["outcome"] == "delivered" for d in log) else []

    log = await wait_until(delivered)
    assert [(d["attempt"], d["outcome"], d["status"]) for d in log] == [
        (1, "failed", 500),
        (2, "failed", 500),
        (3, "delivered", 200),
    ]
    assert len(receiver.requests) == 3
    assert all(r["json"]["pix"][0]["endToEndId"] == pix["endToEndId"] for r in receiver.requests)


async def test_delivery_gives_up_after_the_last_attempt(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"http://127.0.0.1:{dead_port}/hooks"})

    await pay_new_charge(api, control)

    async def finished() -> list[dict[str, Any]]:
        log = await deliveries(control)
        return log if log and log[-1]["outcome"] == "gave_up" else []

    log = await wait_until(finished)
    assert [d["outcome"] for d in log] == ["failed"] * 4 + ["gave_up"]
    assert all(d["error"] == "ConnectError" for d in log[:4])


async def test_ignorar_query_keeps_the_path(
    api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    await api.put(
        f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"{receiver.url}/hooks/efi?token=abc&ignorar="}
    )

    await pay_new_charge(api, control)
    await wait_until(lambda: receiver.requests)

    assert receiver.requests[0]["path"] == "/hooks/efi"
    assert receiver.requests[0]["query"] == "token=abc&ignorar=/pix"


async def test_drop_fault_loses_the_notification(
    api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"{receiver.url}/hooks"})
    await control.post("/sandbox/faults", json={"webhook": "drop", "times": 1})

    dropped = await pay_new_charge(api, control)
    kept = await pay_new_charge(api, control, txid="LauraWebhookTest000000000000002")
    await wait_until(lambda: receiver.requests)

    assert [r["json"]["pix"][0]["endToEndId"] for r in receiver.requests] == [kept["endToEndId"]]
    log = await deliveries(control)
    assert log[0]["event"] == dropped["endToEndId"] and log[0]["outcome"] == "dropped"
    assert (await control.get("/sandbox/faults")).json()["webhook"] is None


async def test_duplicate_fault_delivers_the_same_notification_five_times(
    api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"{receiver.url}/hooks"})
    await control.post("/sandbox/faults", json={"webhook": "duplicate", "copies": 5})

    pix = await pay_new_charge(api, control)
    await wait_until(lambda: len(receiver.requests) >= 5)

    assert len(receiver.requests) == 5
    assert all(r["json"] == {"pix": [pix]} for r in receiver.requests)
    log = await wait_until(lambda: deliveries(control))
    assert sorted(d["copy"] for d in log) == [1, 2, 3, 4, 5]


async def test_delay_fault_holds_the_notification(
    api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"{receiver.url}/hooks"})
    await control.post("/sandbox/faults", json={"webhook": "delay", "seconds": 0.5})

    pix = await pay_new_charge(api, control)
    log = await wait_until(lambda: deliveries(control))

    assert receiver.requests[0]["json"]["pix"][0] == pix
    waited = datetime.fromisoformat(log[0]["at"]) - datetime.fromisoformat(pix["horario"])
    assert waited.total_seconds() >= 0.5
