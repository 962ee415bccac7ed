from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from laura.pix.psp import EfiClient, PspError, new_txid
from laura.pix.psp.auth import OAuthTokens
from laura.settings import Settings

from ..sandbox.fixtures import CLIENT_ID, CLIENT_SECRET


async def tokens_issued(control: httpx.AsyncClient) -> int:
    return int((await control.get("/sandbox/stats")).json()["tokensIssued"])


async def test_token_is_reused_across_calls(client: EfiClient, control: httpx.AsyncClient) -> None:
    txid = new_txid()
    await client.create_charge(txid, Decimal("10.00"), "pix@laura.example", 3600)
    await client.get_charge(txid)
    await client.get_charge(txid)

    assert await tokens_issued(control) == 1


async def test_expired_token_is_refreshed_once_and_the_call_replayed(
    client: EfiClient, control: httpx.AsyncClient
) -> None:
    txid = new_txid()
    await client.create_charge(txid, Decimal("10.00"), "pix@laura.example", 7200)
    await control.post("/sandbox/clock/advance", json={"seconds": 3601})

    charge = await client.get_charge(txid)

    assert charge.txid == txid
    assert await tokens_issued(control) == 2
    stats = (await control.get("/sandbox/stats")).json()["requests"]
    assert stats[f"GET /v2/cob/{txid}"] == 2  # the 401, then the replay with the new token


async def test_token_is_refreshed_shortly_before_it_expires(
    sandbox_url: str, control: httpx.AsyncClient
) -> None:
    now = [1000.0]
    async with httpx.AsyncClient(base_url=sandbox_url) as http:
        tokens = OAuthTokens(http, CLIENT_ID, CLIENT_SECRET, clock=lambda: now[0])
        first = await tokens.get()
        now[0] += 3600 - 31  # still outside the refresh margin
        assert await tokens.get() == first
        now[0] += 2  # within 30 s of the expiry
        second = await tokens.get()

    assert second != first
    assert await tokens_issued(control) == 2


async def test_wrong_credentials_raise_psp_error(sandbox_url: str) -> None:
    async with EfiClient(sandbox_url, CLIENT_ID, "wrong", retries=0) as efi:
        with pytest.raises(PspError) as caught:
            await efi.get_charge(new_txid())

    assert caught.value.psp_status == 401
    assert caught.value.psp_error == "invalid_client"
    assert (caught.value.error, caught.value.status) == ("PSP_ERROR", 502)
    assert efi.breaker.state == "closed"  # the PSP answered: it is not down


async def test_client_from_settings_defaults_to_the_local_sandbox(sandbox_url: str) -> None:
    port = int(sandbox_url.rsplit(":", 1)[1])
    settings = Settings(psp_port=port, psp_client_id=CLIENT_ID, psp_client_secret=CLIENT_SECRET)

    async with EfiClient.from_settings(settings) as efi:
        with pytest.raises(PspError) as caught:
            await efi.get_charge(new_txid())

    assert caught.value.psp_status == 404
    assert caught.value.psp_error == "cobranca_nao_encontrada"
