"""Register, login, refresh rotation and reuse, logout, tampered tokens, roles, login throttling."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from laura.core.security import generate_signing_key
from tests.helpers import auth_headers, login, random_cpf, register, staff_headers


async def test_register_returns_profile_without_secrets(client):
    cpf = random_cpf()
    user = await register(client, cpf=f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}", phone="(11) 98765-4321")
    assert user["cpf"] == cpf
    assert user["phone"] == "+5511987654321"
    assert user["role"] == "customer"
    assert user["createdAt"].endswith("Z")
    assert "password" not in json.dumps({k: v for k, v in user.items() if k != "password"}).lower()


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"cpf": "123.456.789-00"}, "cpf"),
        ({"password": "short"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "+1 202 555 0101"}, "phone"),
        ({"userType": "admin"}, "userType"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_register_rejects_bad_input_and_writes_nothing(client, app, patch, field):
    body = {"email": "x@example.com", "password": "s3cret-passw0rd", "name": "X Y", **patch}
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert any(field in d["field"] for d in response.json()["details"]) or field in ("password", "phone")
    async with app.state.db.sessionmaker() as session:
        from sqlalchemy import text

        assert await session.scalar(text("SELECT count(*) FROM users")) == 0


async def test_duplicate_email_and_cpf_conflict(client):
    cpf = random_cpf()
    first = await register(client, email="Dup@Example.com", cpf=cpf)
    assert first["email"] == "dup@example.com"
    again = await client.post(
        "/auth/register", json={"email": "dup@example.com", "password": "s3cret-passw0rd", "name": "Other"}
    )
    assert again.status_code == 409 and again.json()["error"] == "EMAIL_IN_USE"
    same_cpf = await client.post(
        "/auth/register",
        json={"email": "new@example.com", "password": "s3cret-passw0rd", "name": "Other", "cpf": cpf},
    )
    assert same_cpf.status_code == 409 and same_cpf.json()["error"] == "CPF_IN_USE"


async def test_login_failures_do_not_reveal_whether_email_exists(client):
    user = await register(client)
    wrong = await client.post("/auth/login", json={"email": user["email"], "password": "wrong-password"})
    unknown = await client.post(
        "/auth/login", json={"email": "ghost@example.com", "password": "wrong-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"] == "INVALID_CREDENTIALS"
    assert wrong.json()["message"] == unknown.json()["message"]


async def test_me_login_and_token_shape(client, app):
    user, headers = await auth_headers(client)
    tokens = await login(client, user["email"])
    assert tokens["tokenType"] == "Bearer" and tokens["expiresIn"] == 900
    header = jwt.get_unverified_header(tokens["accessToken"])
    assert header["alg"] == "RS256"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    me = await client.get("/auth/me", headers=headers)
    # read from a row (core.reader), it answers what registration built from the entity
    assert me.status_code == 200 and me.json() == {k: v for k, v in user.items() if k != "password"}


async def test_refresh_rotates_and_reuse_revokes_the_family(client):
    user = await register(client)
    first = await login(client, user["email"])
    second = await client.post("/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refreshToken"] != first["refreshToken"]
    assert (
        await client.get("/auth/me", headers={"Authorization": f"Bearer {pair['accessToken']}"})
    ).status_code == 200

    reuse = await client.post("/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert reuse.status_code == 401 and reuse.json()["error"] == "REFRESH_TOKEN_REUSED"
    # the whole family is dead: the rotated refresh token and the access token it came with
    assert (
        await client.post("/auth/refresh", json={"refreshToken": pair["refreshToken"]})
    ).status_code == 401
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {pair['accessToken']}"})
    assert me.status_code == 401


async def test_logout_revokes_access_and_refresh_at_once(client):
    user = await register(client)
    tokens = await login(client, user["email"])
    headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
    assert (await client.post("/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/auth/me", headers=headers)).status_code == 401
    assert (
        await client.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    ).status_code == 401


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_tampered_tokens_are_refused(client, app):
    user = await register(client)
    tokens = await login(client, user["email"])
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens["accessToken"])["kid"]

    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}."
    other_key = generate_signing_key()
    wrong_key = jwt.encode(claims, other_key.private_pem, algorithm="RS256", headers={"kid": kid})
    expired_claims = {**claims, "iat": int(time.time()) - 3600, "exp": int(time.time()) - 60}
    signer = app.state.signer
    expired = jwt.encode(expired_claims, signer._private, algorithm="RS256", headers={"kid": kid})
    hs256 = jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": kid})
    body, sig = tokens["accessToken"].rsplit(".", 1)
    flipped = f"{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"

    for token in (alg_none, wrong_key, expired, hs256, flipped, "garbage"):
        response = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["error"] == "INVALID_TOKEN"
    assert (await client.get("/auth/me")).status_code == 401


async def test_roles_guard_admin_routes(client, app):
    _, customer = await auth_headers(client)
    assert (await client.get("/audit/logs", headers=customer)).status_code == 403
    admin = await staff_headers(app, client, "admin")
    listed = await client.get("/audit/logs", headers=admin)
    assert listed.status_code == 200
    assert listed.json()["pagination"]["total"] >= 1


async def test_rotated_key_signs_new_tokens_and_old_ones_still_verify(client, app, settings):
    from laura.app import create_app
    from laura.identity.keys import rotate_signing_key

    user = await register(client)
    old = await login(client, user["email"])
    async with app.state.db.unit_of_work() as session:
        new_kid = await rotate_signing_key(session, app.state.cipher)
    restarted = create_app(settings)
    async with restarted.router.lifespan_context(restarted):
        import httpx

        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            fresh = await login(other, user["email"])
            assert jwt.get_unverified_header(fresh["accessToken"])["kid"] == new_kid
            for token in (old["accessToken"], fresh["accessToken"]):
                response = await other.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200
