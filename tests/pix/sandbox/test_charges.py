from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from laura.pix.brcode import parse_brcode
from laura.pix.psp.ids import E2E_ID_PATTERN

from .fixtures import PIX_KEY

TXID = "LauraSandboxTest0000000000000001"


def cob(amount: str = "150.00", expires: int = 3600, **extra: Any) -> dict[str, Any]:
    return {"calendario": {"expiracao": expires}, "valor": {"original": amount}, "chave": PIX_KEY, **extra}


async def test_create_answers_efi_shape(api: httpx.AsyncClient) -> None:
    body = cob(devedor={"cpf": "12345678909", "nome": "Francisco da Silva"}, solicitacaoPagador="Corrida 42")

    response = await api.put(f"/v2/cob/{TXID}", json=body)

    assert response.status_code == 201
    charge = response.json()
    assert charge["txid"] == TXID
    assert charge["status"] == "ATIVA"
    assert charge["revisao"] == 0
    assert charge["calendario"]["expiracao"] == 3600
    assert charge["calendario"]["criacao"].endswith("Z")
    assert charge["valor"] == {"original": "150.00"}
    assert charge["chave"] == PIX_KEY
    assert charge["devedor"] == {"cpf": "12345678909", "nome": "Francisco da Silva"}
    assert charge["solicitacaoPagador"] == "Corrida 42"
    assert charge["loc"]["tipoCob"] == "cob"
    assert charge["loc"]["location"] == charge["location"]
    assert "pix" not in charge
    brcode = parse_brcode(charge["pixCopiaECola"])
    assert brcode.location == charge["location"]
    assert brcode.amount == Decimal("150.00")
    assert brcode.point_of_initiation == "12"


async def test_put_is_idempotent_for_the_same_body_and_refuses_another(api: httpx.AsyncClient) -> None:
    first = await api.put(f"/v2/cob/{TXID}", json=cob())
    again = await api.put(f"/v2/cob/{TXID}", json=cob())
    other = await api.put(f"/v2/cob/{TXID}", json=cob(amount="151.00"))

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert other.status_code == 409
    assert other.json()["nome"] == "txid_duplicado"


async def test_invalid_requests_answer_efi_errors(api: httpx.AsyncClient) -> None:
    short_txid = await api.put("/v2/cob/tooshort", json=cob())
    bad_amount = await api.put(f"/v2/cob/{TXID}", json=cob(amount="1.5"))
    zero = await api.put(f"/v2/cob/{TXID}", json=cob(amount="0.00"))
    unknown = await api.get(f"/v2/cob/{TXID}")

    assert (short_txid.status_code, short_txid.json()["nome"]) == (400, "txid_invalido")
    assert (bad_amount.status_code, bad_amount.json()["nome"]) == (400, "json_invalido")
    assert (zero.status_code, zero.json()["nome"]) == (400, "valor_invalido")
    assert (unknown.status_code, unknown.json()["nome"]) == (404, "cobranca_nao_encontrada")


async def test_paying_concludes_the_charge_and_lists_the_pix(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    await api.put(f"/v2/cob/{TXID}", json=cob())

    paid = await control.post(
        f"/sandbox/cob/{TXID}/pay",
        json={"pagador": {"nome": "Ana", "cpf": "12345678909"}, "infoPagador": "obrigada"},
    )
    again = await control.post(f"/sandbox/cob/{TXID}/pay")
    charge = (await api.get(f"/v2/cob/{TXID}")).json()

    assert paid.status_code == 200
    pix = paid.json()
    assert len(pix["endToEndId"]) == 32 and E2E_ID_PATTERN.match(pix["endToEndId"])
    assert pix["endToEndId"].startswith("E09089356")
    assert pix["valor"] == "150.00" and pix["txid"] == TXID and pix["infoPagador"] == "obrigada"
    assert charge["status"] == "CONCLUIDA"
    assert charge["pix"] == [pix]
    assert (await api.get(f"/v2/pix/{pix['endToEndId']}")).json() == pix
    assert (again.status_code, again.json()["nome"]) == (409, "cobranca_nao_ativa")


async def test_removed_charge_cannot_be_paid_and_paid_one_cannot_be_removed(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    other = "LauraSandboxTest0000000000000002"
    await api.put(f"/v2/cob/{TXID}", json=cob())
    await api.put(f"/v2/cob/{other}", json=cob())
    await control.post(f"/sandbox/cob/{other}/pay")

    removed = await api.patch(f"/v2/cob/{TXID}", json={"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"})
    removed_again = await api.patch(f"/v2/cob/{TXID}", json={"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"})
    pay_removed = await control.post(f"/sandbox/cob/{TXID}/pay")
    remove_paid = await api.patch(f"/v2/cob/{other}", json={"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"})
    other_status = await api.patch(f"/v2/cob/{TXID}", json={"status": "CONCLUIDA"})

    assert removed.status_code == 200
    assert removed.json()["status"] == "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    assert removed.json()["revisao"] == 1
    assert removed_again.json() == removed.json()
    assert (pay_removed.status_code, pay_removed.json()["nome"]) == (409, "cobranca_nao_ativa")
    assert (remove_paid.status_code, remove_paid.json()["nome"]) == (400, "cobranca_nao_ativa")
    assert other_status.status_code == 400


async def test_expired_charge_stays_active_but_cannot_be_paid(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    await api.put(f"/v2/cob/{TXID}", json=cob(expires=60))

    await control.post("/sandbox/clock/advance", json={"seconds": 61})
    # The token lived 3600 s, so it is still good after a minute.
    charge = await api.get(f"/v2/cob/{TXID}")
    pay = await control.post(f"/sandbox/cob/{TXID}/pay")

    assert charge.json()["status"] == "ATIVA"
    assert (pay.status_code, pay.json()["nome"]) == (409, "cobranca_expirada")
