from __future__ import annotations

from typing import Any

import httpx

from laura.pix.psp.ids import E2E_ID_PATTERN

from .fixtures import PIX_KEY, Receiver, wait_until

DRIVER_KEY = "motorista@example.com"


def send_body(amount: str = "80.00", payee: str = DRIVER_KEY) -> dict[str, Any]:
    return {
        "valor": amount,
        "pagador": {"chave": PIX_KEY, "infoPagador": "Repasse"},
        "favorecido": {"chave": payee},
    }


async def status_of(api: httpx.AsyncClient, id_envio: str) -> dict[str, Any]:
    return dict((await api.get(f"/v2/gn/pix/enviados/id-envio/{id_envio}")).json())


async def test_send_is_accepted_then_settles(api: httpx.AsyncClient) -> None:
    response = await api.put("/v3/gn/pix/payout1", json=send_body())

    assert response.status_code == 201
    accepted = response.json()
    assert accepted["idEnvio"] == "payout1"
    assert accepted["status"] == "EM_PROCESSAMENTO"
    assert accepted["valor"] == "80.00"
    assert E2E_ID_PATTERN.match(accepted["e2eId"]) and len(accepted["e2eId"]) == 32
    assert accepted["horario"]["solicitacao"].endswith("Z")

    async def settled() -> dict[str, Any] | None:
        sent = await status_of(api, "payout1")
        return sent if sent["status"] != "EM_PROCESSAMENTO" else None

    sent = await wait_until(settled)
    assert sent["status"] == "REALIZADO"
    assert sent["endToEndId"] == accepted["e2eId"]
    assert sent["chave"] == PIX_KEY and sent["favorecido"] == {"chave": DRIVER_KEY}
    assert "liquidacao" in sent["horario"]
    by_e2e = await api.get(f"/v2/gn/pix/enviados/{accepted['e2eId']}")
    assert by_e2e.json() == sent


async def test_send_is_idempotent_on_id_envio(api: httpx.AsyncClient) -> None:
    first = await api.put("/v3/gn/pix/payout2", json=send_body())
    again = await api.put("/v3/gn/pix/payout2", json=send_body())
    other = await api.put("/v3/gn/pix/payout2", json=send_body(amount="81.00"))

    assert again.status_code == 200
    assert again.json()["e2eId"] == first.json()["e2eId"]
    assert (other.status_code, other.json()["nome"]) == (409, "id_envio_duplicado")


async def test_send_to_a_failing_key_is_not_made_and_notified(
    api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": f"{receiver.url}/hooks"})
    await control.post("/sandbox/faults", json={"send_fail_key": DRIVER_KEY})

    accepted = (await api.put("/v3/gn/pix/payout3", json=send_body())).json()
    await wait_until(lambda: receiver.requests)

    assert accepted["status"] == "EM_PROCESSAMENTO"
    sent = await status_of(api, "payout3")
    assert sent["status"] == "NAO_REALIZADO"
    assert sent["gnExtras"]["erro"]["motivo"]
    entry = receiver.requests[0]["json"]["pix"][0]
    assert entry["tipo"] == "SOLICITACAO" and entry["status"] == "NAO_REALIZADO"
    assert entry["endToEndId"] == accepted["e2eId"] and entry["gnExtras"]["idEnvio"] == "payout3"


async def test_stuck_send_stays_in_processing_until_settled(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    await control.post("/sandbox/faults", json={"send_stuck": True})

    await api.put("/v3/gn/pix/payout4", json=send_body())
    # With the fault no settlement is ever scheduled, so the status is final until we settle it.
    assert (await status_of(api, "payout4"))["status"] == "EM_PROCESSAMENTO"

    settled = await control.post("/sandbox/pix/payout4/settle", json={"status": "REALIZADO"})
    twice = await control.post("/sandbox/pix/payout4/settle", json={"status": "NAO_REALIZADO"})

    assert settled.json()["status"] == "REALIZADO"
    assert (await status_of(api, "payout4"))["status"] == "REALIZADO"
    assert (twice.status_code, twice.json()["nome"]) == (409, "envio_ja_finalizado")


async def test_unknown_sends_answer_404(api: httpx.AsyncClient) -> None:
    by_id = await api.get("/v2/gn/pix/enviados/id-envio/nothing")
    by_e2e = await api.get("/v2/gn/pix/enviados/E09089356202601010000abcdefghijk")

    assert (by_id.status_code, by_id.json()["nome"]) == (404, "pix_nao_encontrado")
    assert by_e2e.status_code == 404
