from __future__ import annotations

import httpx

from .fixtures import CLIENT_ID, CLIENT_SECRET

GRANT = {"grant_type": "client_credentials"}


async def test_token_is_issued_for_basic_credentials(control: httpx.AsyncClient) -> None:
    response = await control.post("/oauth/token", json=GRANT, auth=(CLIENT_ID, CLIENT_SECRET))

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "cob.write" in body["scope"]
    assert len(body["access_token"]) >= 32


async def test_wrong_secret_is_refused(control: httpx.AsyncClient) -> None:
    response = await control.post("/oauth/token", json=GRANT, auth=(CLIENT_ID, "nope"))

    assert response.status_code == 401
    assert response.json()["nome"] == "invalid_client"


async def test_grant_type_is_required(control: httpx.AsyncClient) -> None:
    response = await control.post("/oauth/token", json={}, auth=(CLIENT_ID, CLIENT_SECRET))

    assert response.status_code == 400
    assert response.json()["nome"] == "unsupported_grant_type"


async def test_api_routes_need_a_valid_bearer_token(control: httpx.AsyncClient) -> None:
    missing = await control.get("/v2/cob/" + "a" * 30)
    bogus = await control.get("/v2/cob/" + "a" * 30, headers={"Authorization": "Bearer forged"})

    for response in (missing, bogus):
        assert response.status_code == 401
        assert set(response.json()) == {"nome", "mensagem"}
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_token_expires_when_the_clock_passes_its_lifetime(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    assert (await api.get("/v2/cob/" + "a" * 30)).status_code == 404

    await control.post("/sandbox/clock/advance", json={"seconds": 3601})

    response = await api.get("/v2/cob/" + "a" * 30)
    assert response.status_code == 401
    assert response.json()["nome"] == "nao_autorizado"
