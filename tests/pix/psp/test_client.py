from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from laura.pix.psp import (
    ChargeStatus,
    Debtor,
    EfiClient,
    PspError,
    PspUnavailable,
    SentPix,
    SentPixStatus,
    new_id_envio,
    new_txid,
)
from laura.pix.psp.ids import E2E_ID_PATTERN, ID_ENVIO_PATTERN, TXID_PATTERN
from laura.pix.sandbox import BackgroundServer

from ..sandbox.fixtures import wait_until

KEY = "pix@laura.example"
DRIVER_KEY = "+5511988887777"


def requests_to(stats: dict[str, int], method_and_path: str) -> int:
    return stats.get(method_and_path, 0)


async def sandbox_requests(control: httpx.AsyncClient) -> dict[str, int]:
    return dict((await control.get("/sandbox/stats")).json()["requests"])


def metric(operation: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("psp_requests_total", {"operation": operation, "outcome": outcome})
    return value or 0.0


def test_ids_are_random_and_valid() -> None:
    txids = {new_txid() for _ in range(200)}
    ids = {new_id_envio() for _ in range(200)}

    assert len(txids) == 200 and len(ids) == 200
    assert all(TXID_PATTERN.match(t) and len(t) == 32 for t in txids)
    assert all(ID_ENVIO_PATTERN.match(i) for i in ids)


async def test_create_get_and_cancel_a_charge(client: EfiClient) -> None:
    txid = new_txid()
    debtor = Debtor(name="Francisco da Silva", cpf="12345678909")

    created = await client.create_charge(
        txid, Decimal("150.00"), KEY, 900, description="Corrida 42", debtor=debtor
    )
    fetched = await client.get_charge(txid)
    cancelled = await client.cancel_charge(txid)

    assert created == fetched
    assert created.txid == txid and created.status is ChargeStatus.ATIVA
    assert created.amount == Decimal("150.00") and isinstance(created.amount, Decimal)
    assert created.key == KEY and created.description == "Corrida 42" and created.debtor == debtor
    assert created.expires_at == created.created_at + timedelta(seconds=900)
    assert created.created_at.utcoffset() == timedelta(0)
    assert created.location and created.pix_copy_paste and created.location in created.pix_copy_paste
    assert created.is_payable(created.created_at + timedelta(seconds=899))
    assert not created.is_payable(created.expires_at)
    assert cancelled.status is ChargeStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR
    assert not cancelled.is_payable(cancelled.created_at)


async def test_create_is_idempotent_and_a_conflict_carries_the_psp_message(client: EfiClient) -> None:
    txid = new_txid()
    first = await client.create_charge(txid, Decimal("10.00"), KEY, 600)
    again = await client.create_charge(txid, Decimal("10.00"), KEY, 600)

    with pytest.raises(PspError) as caught:
        await client.create_charge(txid, Decimal("11.00"), KEY, 600)

    assert again == first
    assert caught.value.psp_status == 409 and caught.value.psp_error == "txid_duplicado"
    assert "txid" in caught.value.message
    assert caught.value.body("req-1")["details"] == {"pspStatus": 409, "pspError": "txid_duplicado"}


async def test_a_paid_charge_lists_its_pix(client: EfiClient, control: httpx.AsyncClient) -> None:
    txid = new_txid()
    await client.create_charge(txid, Decimal("42.50"), KEY, 600)
    await control.post(f"/sandbox/cob/{txid}/pay", json={"infoPagador": "valeu"})

    charge = await client.get_charge(txid)

    assert charge.status is ChargeStatus.CONCLUIDA
    (pix,) = charge.payments
    assert pix.amount == Decimal("42.50") and pix.txid == txid and pix.payer_info == "valeu"
    assert E2E_ID_PATTERN.match(pix.end_to_end_id)


async def test_a_received_pix_reads_back_by_its_e2e_id(client: EfiClient, control: httpx.AsyncClient) -> None:
    txid = new_txid()
    await client.create_charge(txid, Decimal("42.50"), KEY, 600)
    paid = (await control.post(f"/sandbox/cob/{txid}/pay", json={"infoPagador": "valeu"})).json()

    pix = await client.get_received_pix(paid["endToEndId"])
    with pytest.raises(PspError) as unknown:
        await client.get_received_pix("E09089356202501020304abcdefghijk")

    assert (pix.end_to_end_id, pix.txid, pix.amount, pix.payer_info) == (
        paid["endToEndId"],
        txid,
        Decimal("42.50"),
        "valeu",
    )
    assert unknown.value.psp_status == 404 and unknown.value.psp_error == "pix_nao_encontrado"


async def test_unknown_charge_raises_psp_error(client: EfiClient) -> None:
    with pytest.raises(PspError) as caught:
        await client.get_charge(new_txid())

    assert caught.value.psp_status == 404


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (10.0, TypeError),
        (Decimal("1.234"), ValueError),
        (Decimal(0), ValueError),
        (Decimal("-1.00"), ValueError),
    ],
)
async def test_amounts_must_be_positive_decimals_in_cents(
    client: EfiClient, amount: object, error: type
) -> None:
    with pytest.raises(error):
        await client.create_charge(new_txid(), amount, KEY, 600)  # type: ignore[arg-type]


async def test_txid_must_have_the_pix_format(client: EfiClient) -> None:
    with pytest.raises(ValueError):
        await client.create_charge("short", Decimal("1.00"), KEY, 600)


async def test_register_webhook_for_a_phone_key(client: EfiClient, control: httpx.AsyncClient) -> None:
    config = await client.register_webhook(
        DRIVER_KEY, "https://laura.example/webhooks/efi", skip_mtls_check=True
    )

    assert (config.key, config.url) == (DRIVER_KEY, "https://laura.example/webhooks/efi")
    assert requests_to(await sandbox_requests(control), "PUT /v2/webhook/+5511988887777") == 1


async def settled(client: EfiClient, id_envio: str) -> SentPix | None:
    sent = await client.get_sent_pix_by_id(id_envio)
    return sent if sent.status is not SentPixStatus.EM_PROCESSAMENTO else None


async def test_send_pix_settles_and_reads_back(client: EfiClient) -> None:
    id_envio = new_id_envio()

    accepted = await client.send_pix(id_envio, Decimal("80.00"), KEY, DRIVER_KEY, description="Repasse")
    again = await client.send_pix(id_envio, Decimal("80.00"), KEY, DRIVER_KEY, description="Repasse")
    done = await wait_until(lambda: settled(client, id_envio))
    by_e2e = await client.get_sent_pix_by_e2e(accepted.e2e_id)

    assert accepted.status is SentPixStatus.EM_PROCESSAMENTO
    assert accepted.id_envio == id_envio and accepted.amount == Decimal("80.00")
    assert again.e2e_id == accepted.e2e_id
    assert done.status is SentPixStatus.REALIZADO and done.settled_at is not None
    assert (done.payer_key, done.payee_key) == (KEY, DRIVER_KEY)
    assert by_e2e == done


async def test_failed_send_reports_nao_realizado(client: EfiClient, control: httpx.AsyncClient) -> None:
    await control.post("/sandbox/faults", json={"send_fail_key": DRIVER_KEY})
    id_envio = new_id_envio()

    await client.send_pix(id_envio, Decimal("80.00"), KEY, DRIVER_KEY)
    done = await wait_until(lambda: settled(client, id_envio))

    assert done.status is SentPixStatus.NAO_REALIZADO
    assert done.failure_reason


async def test_stuck_send_stays_in_processing(client: EfiClient, control: httpx.AsyncClient) -> None:
    await control.post("/sandbox/faults", json={"send_stuck": True})
    id_envio = new_id_envio()

    await client.send_pix(id_envio, Decimal("80.00"), KEY, DRIVER_KEY)

    assert (await client.get_sent_pix_by_id(id_envio)).status is SentPixStatus.EM_PROCESSAMENTO
    await control.post(
        f"/sandbox/pix/{id_envio}/settle", json={"status": "NAO_REALIZADO", "motivo": "Conta encerrada"}
    )
    done = await client.get_sent_pix_by_id(id_envio)
    assert (done.status, done.failure_reason) == (SentPixStatus.NAO_REALIZADO, "Conta encerrada")


async def test_idempotent_calls_are_retried_on_5xx(client: EfiClient, control: httpx.AsyncClient) -> None:
    txid = new_txid()
    await control.post("/sandbox/faults", json={"http500": {"path_prefix": "/v2/cob", "count": 2}})

    charge = await client.create_charge(txid, Decimal("5.00"), KEY, 600)

    assert charge.txid == txid
    assert requests_to(await sandbox_requests(control), f"PUT /v2/cob/{txid}") == 3


async def test_non_idempotent_calls_are_not_retried(client: EfiClient, control: httpx.AsyncClient) -> None:
    txid = new_txid()
    await client.create_charge(txid, Decimal("5.00"), KEY, 600)
    await control.post("/sandbox/faults", json={"http500": {"path_prefix": "/v2/cob", "count": 1}})
    before = metric("cancel_charge", "unavailable")

    with pytest.raises(PspUnavailable) as caught:
        await client.cancel_charge(txid)

    assert (caught.value.error, caught.value.status) == ("EXTERNAL_SERVICE_ERROR", 503)
    assert requests_to(await sandbox_requests(control), f"PATCH /v2/cob/{txid}") == 1
    assert metric("cancel_charge", "unavailable") == before + 1


async def test_exhausted_retries_raise_psp_unavailable(client: EfiClient, control: httpx.AsyncClient) -> None:
    txid = new_txid()
    await control.post("/sandbox/faults", json={"http500": {"path_prefix": "/v2/cob", "count": 10}})
    before = metric("get_charge", "unavailable")

    with pytest.raises(PspUnavailable):
        await client.get_charge(txid)

    assert requests_to(await sandbox_requests(control), f"GET /v2/cob/{txid}") == 3
    assert metric("get_charge", "unavailable") == before + 1


async def test_metrics_count_successes_and_time_calls(client: EfiClient) -> None:
    before = metric("create_charge", "success")
    duration_before = REGISTRY.get_sample_value(
        "psp_request_duration_seconds_count", {"operation": "create_charge"}
    )

    await client.create_charge(new_txid(), Decimal("1.00"), KEY, 600)

    assert metric("create_charge", "success") == before + 1
    duration_after = REGISTRY.get_sample_value(
        "psp_request_duration_seconds_count", {"operation": "create_charge"}
    )
    assert duration_after == (duration_before or 0) + 1


async def test_an_unreadable_answer_raises_psp_error() -> None:
    """A PSP answering an unknown status (enumerations may grow) must not crash the caller with a 500."""

    async def token(_: Request) -> JSONResponse:
        return JSONResponse({"access_token": "t", "token_type": "Bearer", "expires_in": 3600})

    async def charge(_: Request) -> JSONResponse:
        return JSONResponse({"txid": "x", "status": "NOVO_STATUS"})

    app = Starlette(routes=[Route("/oauth/token", token, methods=["POST"]), Route("/v2/cob/{txid}", charge)])
    with BackgroundServer(app) as odd_psp:
        async with EfiClient(odd_psp.url, "id", "secret", retries=0) as efi:
            with pytest.raises(PspError) as caught:
                await efi.get_charge(new_txid())

    assert caught.value.psp_status == 200
    assert efi.breaker.state == "closed"
