from __future__ import annotations

import httpx
import pytest

from .fixtures import PIX_KEY

TXID = "LauraFaultTest0000000000000001"
COB = {"calendario": {"expiracao": 3600}, "valor": {"original": "10.00"}, "chave": PIX_KEY}


async def test_http500_fault_fails_the_next_matching_requests(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    faults = await control.post("/sandbox/faults", json={"http500": {"path_prefix": "/v2/cob", "count": 2}})
    assert faults.json()["http500"] == [{"path_prefix": "/v2/cob", "count": 2}]

    webhook = await api.put(f"/v2/webhook/{PIX_KEY}", json={"webhookUrl": "https://laura.example/hooks"})
    answers = [await api.put(f"/v2/cob/{TXID}", json=COB) for _ in range(3)]

    assert webhook.status_code == 200
    assert [a.status_code for a in answers] == [500, 500, 201]
    assert answers[0].json() == {"nome": "erro_aplicacao", "mensagem": "Falha simulada pelo sandbox"}
    assert (await control.get("/sandbox/faults")).json()["http500"] == []


async def test_faults_can_be_listed_and_cleared(control: httpx.AsyncClient) -> None:
    await control.post("/sandbox/faults", json={"webhook": "drop", "times": 3, "send_stuck": True})
    await control.post("/sandbox/faults", json={"send_fail_key": "a@b.c"})

    listed = (await control.get("/sandbox/faults")).json()
    cleared = (await control.delete("/sandbox/faults")).json()

    assert listed["webhook"]["mode"] == "drop" and listed["webhook"]["remaining"] == 3
    assert listed["sendStuck"] is True and listed["sendFailKeys"] == ["a@b.c"]
    assert cleared == {"webhook": None, "http500": [], "sendFailKeys": [], "sendStuck": False}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"times": 2},
        {"webhook": "drop", "copies": 3},
        {"webhook": "duplicate", "seconds": 1},
        {"webhook": "explode"},
        {"http500": {"path_prefix": "v2/cob"}},
        {"surprise": True},
    ],
)
async def test_malformed_faults_are_refused(control: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await control.post("/sandbox/faults", json=body)

    assert response.status_code == 400
    assert response.json()["nome"] == "json_invalido"


async def test_reset_forgets_everything(api: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
    await api.put(f"/v2/cob/{TXID}", json=COB)
    await control.post("/sandbox/faults", json={"send_stuck": True})

    await control.post("/sandbox/reset")

    assert (await control.get("/sandbox/faults")).json()["sendStuck"] is False
    assert (await api.get(f"/v2/cob/{TXID}")).status_code == 401  # tokens are forgotten too
    stats = (await control.get("/sandbox/stats")).json()
    assert stats == {"tokensIssued": 0, "requests": {f"GET /v2/cob/{TXID}": 1}}
