"""One-time codes over HTTP: enrol and confirm an authenticator, send a code, and `VerifiedByCode` on a
route mounted for the test (the cards' details reveal uses it the same way)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import httpx
import pyotp
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from laura.app import create_app
from laura.identity.deps import CurrentUser, VerifiedByCode
from laura.identity.otp.delivery import open_code
from laura.settings import Settings
from tests.helpers import auth_headers

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PROBE = "/test/verified"

probe = APIRouter()


@probe.get(PROBE)
async def verified_probe(user: CurrentUser, verified: VerifiedByCode) -> dict:
    """A GET, like the card details reveal: its session only reads, so the guard must write on its own."""
    return {"userId": str(user.id), "method": verified}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator:
    application = create_app(settings)
    application.include_router(probe)
    async with application.router.lifespan_context(application):
        yield application


async def _db(app, sql: str, **params):
    async with app.state.db.engine.begin() as conn:
        result = await conn.execute(text(sql), params)
        return result.all() if result.returns_rows else []


def _secret(uri: str) -> str:
    return parse_qs(urlparse(uri).query)["secret"][0]


async def _enrolled(client: httpx.AsyncClient) -> tuple[dict, dict, str]:
    """A customer with a confirmed authenticator: (user, headers, secret). Its confirming step is used."""
    user, headers = await auth_headers(client)
    enrolled = await client.post("/api/security/otp/enroll", headers=headers)
    assert enrolled.status_code == 200, enrolled.text
    secret = _secret(enrolled.json()["otpauthUri"])
    confirmed = await client.post(
        "/api/security/otp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return user, headers, secret


def _next_step(secret: str) -> tuple[str, int]:
    """The code and step after now's: accepted (one step of drift) and later than the confirming one."""
    totp, later = pyotp.TOTP(secret), datetime.now(UTC) + timedelta(seconds=30)
    return totp.at(later), totp.timecode(later)


def _next_code(secret: str) -> str:
    return _next_step(secret)[0]


async def _verify(client: httpx.AsyncClient, headers: dict, code: str | None) -> httpx.Response:
    extra = {} if code is None else {"X-Verification-Code": code}
    return await client.get(PROBE, headers={**headers, **extra})


async def _sent_code(app, user_id: str) -> str:
    rows = await _db(
        app,
        "SELECT data FROM outbox WHERE type = 'security.otp' AND user_ids = ARRAY[CAST(:u AS uuid)] "
        "ORDER BY id DESC LIMIT 1",
        u=user_id,
    )
    return open_code(app.state.cipher, user_id, rows[0].data["sealedCode"])


async def test_enroll_answers_a_png_qr_and_an_otpauth_uri_for_the_user(client, app) -> None:
    user, headers = await auth_headers(client)
    response = await client.post("/api/security/otp/enroll", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert base64.b64decode(body["qrCodePng"]).startswith(PNG_MAGIC)
    uri = urlparse(body["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/Laura:{user['email']}"
    assert parse_qs(uri.query)["issuer"] == ["Laura"]
    sealed = await _db(
        app,
        "SELECT secret_sealed, confirmed_at FROM otp_authenticators WHERE user_id = :u",
        u=user["id"],
    )
    assert sealed[0].confirmed_at is None
    assert _secret(body["otpauthUri"]).encode() not in bytes(sealed[0].secret_sealed)


async def test_confirm_activates_the_authenticator_and_enrolling_again_is_refused(client, app) -> None:
    user, headers = await auth_headers(client)
    first = (await client.post("/api/security/otp/enroll", headers=headers)).json()
    second = (await client.post("/api/security/otp/enroll", headers=headers)).json()
    old, secret = _secret(first["otpauthUri"]), _secret(second["otpauthUri"])
    assert old != secret
    wrong = await client.post(
        "/api/security/otp/confirm", json={"code": pyotp.TOTP(old).now()}, headers=headers
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_VERIFICATION_CODE"
    confirmed = await client.post(
        "/api/security/otp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmedAt"].endswith("Z")
    again = await client.post("/api/security/otp/enroll", headers=headers)
    assert again.status_code == 409 and again.json()["error"] == "OTP_ALREADY_ENROLLED"
    send = await client.post("/api/security/otp/send", headers=headers)
    assert send.status_code == 409 and send.json()["error"] == "OTP_USE_AUTHENTICATOR"
    guard = await _db(app, "SELECT failures FROM otp_guards WHERE user_id = :u", u=user["id"])
    assert guard[0].failures == 0  # the right code reset the wrong one's count
    actions = await _db(
        app,
        "SELECT action, new_values FROM audit_logs WHERE resource_id = :u AND action LIKE 'OTP_%' ORDER BY id",
        u=user["id"],
    )
    assert [a.action for a in actions] == ["OTP_ENROLLED", "OTP_ENROLLED", "OTP_CONFIRMED"]
    assert all(secret not in str(a.new_values) for a in actions)


async def test_confirm_without_enrolling_is_409(client) -> None:
    _, headers = await auth_headers(client)
    response = await client.post("/api/security/otp/confirm", json={"code": "123456"}, headers=headers)
    assert response.status_code == 409 and response.json()["error"] == "OTP_NOT_PENDING"


async def test_a_missing_code_is_401_verification_required_and_counts_nothing(client, app) -> None:
    user, headers, _ = await _enrolled(client)
    response = await _verify(client, headers, None)
    assert response.status_code == 401 and response.json()["error"] == "VERIFICATION_REQUIRED"
    guard = await _db(app, "SELECT failures FROM otp_guards WHERE user_id = :u", u=user["id"])
    assert guard[0].failures == 0


async def test_a_totp_code_verifies_once(client, app) -> None:
    user, headers, secret = await _enrolled(client)
    wrong = await _verify(client, headers, await _wrong(secret))
    assert wrong.status_code == 401 and wrong.json()["error"] == "INVALID_VERIFICATION_CODE"
    code = _next_code(secret)
    first = await _verify(client, headers, code)
    assert first.status_code == 200, first.text
    assert first.json() == {"userId": user["id"], "method": "totp"}
    replay = await _verify(client, headers, code)
    assert replay.status_code == 401 and replay.json()["error"] == "INVALID_VERIFICATION_CODE"


async def test_the_confirming_code_cannot_be_used_again(client) -> None:
    _, headers = await auth_headers(client)
    secret = _secret((await client.post("/api/security/otp/enroll", headers=headers)).json()["otpauthUri"])
    code = pyotp.TOTP(secret).now()
    confirmed = await client.post("/api/security/otp/confirm", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200
    assert (await _verify(client, headers, code)).status_code == 401


async def test_a_sent_code_arrives_as_an_event_to_the_user_and_verifies_once(client, app) -> None:
    user, headers = await auth_headers(client)
    sent = await client.post("/api/security/otp/send", headers=headers)
    assert sent.status_code == 202, sent.text
    assert set(sent.json()) == {"expiresAt"}
    expires = datetime.fromisoformat(sent.json()["expiresAt"])
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    code = await _sent_code(app, user["id"])
    assert len(code) == 6 and code.isdigit()
    stored = await _db(app, "SELECT code_hash FROM otp_codes WHERE user_id = :u", u=user["id"])
    assert code.encode() not in bytes(stored[0].code_hash)
    first = await _verify(client, headers, code)
    assert first.status_code == 200 and first.json()["method"] == "code"
    again = await _verify(client, headers, code)
    assert again.status_code == 401 and again.json()["error"] == "INVALID_VERIFICATION_CODE"


async def test_sends_are_one_per_interval_even_when_concurrent(client, app) -> None:
    user, headers = await auth_headers(client)
    answers = await asyncio.gather(
        *(client.post("/api/security/otp/send", headers=headers) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [202, 429, 429, 429, 429]
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"] == "OTP_SEND_TOO_SOON" and int(refused.headers["retry-after"]) >= 1
    rows = await _db(app, "SELECT count(*) AS n FROM otp_codes WHERE user_id = :u", u=user["id"])
    assert rows[0].n == 1


async def test_only_the_newest_sent_code_verifies(client, app) -> None:
    user, headers = await auth_headers(client)
    assert (await client.post("/api/security/otp/send", headers=headers)).status_code == 202
    old = await _sent_code(app, user["id"])
    await _db(
        app,
        "UPDATE otp_codes SET created_at = created_at - interval '1 minute' WHERE user_id = :u",
        u=user["id"],
    )
    assert (await client.post("/api/security/otp/send", headers=headers)).status_code == 202
    new = await _sent_code(app, user["id"])
    if old != new:
        assert (await _verify(client, headers, old)).status_code == 401
    assert (await _verify(client, headers, new)).status_code == 200


async def test_an_expired_sent_code_is_invalid(client, app) -> None:
    user, headers = await auth_headers(client)
    assert (await client.post("/api/security/otp/send", headers=headers)).status_code == 202
    code = await _sent_code(app, user["id"])
    await _db(
        app, "UPDATE otp_codes SET expires_at = now() - interval '1 second' WHERE user_id = :u", u=user["id"]
    )
    response = await _verify(client, headers, code)
    assert response.status_code == 401 and response.json()["error"] == "INVALID_VERIFICATION_CODE"


async def test_another_users_code_does_not_verify_for_me(client, app) -> None:
    other, other_headers = await auth_headers(client)
    _, my_headers = await auth_headers(client)
    assert (await client.post("/api/security/otp/send", headers=other_headers)).status_code == 202
    code = await _sent_code(app, other["id"])
    assert (await _verify(client, my_headers, code)).status_code == 401
    _, _, secret = await _enrolled(client)
    assert (await _verify(client, my_headers, _next_code(secret))).status_code == 401
    assert (await _verify(client, other_headers, code)).status_code == 200


async def _wrong(secret: str) -> str:
    """A well-formed code that is none of the accepted steps' codes."""
    totp, now = pyotp.TOTP(secret), datetime.now(UTC)
    taken = {totp.at(now + timedelta(seconds=s)) for s in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in taken)


async def test_five_wrong_codes_lock_even_the_right_code_until_the_lock_ends(client, app) -> None:
    user, headers, secret = await _enrolled(client)
    wrong = await _wrong(secret)
    for _ in range(5):
        response = await _verify(client, headers, wrong)
        assert response.status_code == 401 and response.json()["error"] == "INVALID_VERIFICATION_CODE"
    locked = await _verify(client, headers, _next_code(secret))
    assert locked.status_code == 429 and locked.json()["error"] == "VERIFICATION_LOCKED"
    assert 840 < int(locked.headers["retry-after"]) <= 900
    await _db(
        app,
        "UPDATE otp_guards SET locked_until = now() - interval '1 second' WHERE user_id = :u",
        u=user["id"],
    )
    opened = await _verify(client, headers, _next_code(secret))
    assert opened.status_code == 200, opened.text
    guard = await _db(app, "SELECT failures, locked_until FROM otp_guards WHERE user_id = :u", u=user["id"])
    assert (guard[0].failures, guard[0].locked_until) == (0, None)


async def test_a_right_code_resets_the_count_of_wrong_ones(client, app) -> None:
    _, headers, secret = await _enrolled(client)
    wrong = await _wrong(secret)
    for _ in range(4):
        assert (await _verify(client, headers, wrong)).status_code == 401
    assert (await _verify(client, headers, _next_code(secret))).status_code == 200
    for _ in range(4):
        assert (await _verify(client, headers, wrong)).status_code == 401
    assert (await _verify(client, headers, wrong)).status_code == 401
    assert (await _verify(client, headers, wrong)).status_code == 429


async def test_ten_concurrent_wrong_codes_get_five_tries_and_the_lock_holds(client, app) -> None:
    user, headers, secret = await _enrolled(client)
    wrong = await _wrong(secret)
    answers = await asyncio.gather(*(_verify(client, headers, wrong) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [401] * 5 + [429] * 5
    guard = await _db(app, "SELECT failures, locked_until FROM otp_guards WHERE user_id = :u", u=user["id"])
    assert guard[0].failures == 5 and guard[0].locked_until > datetime.now(UTC)
    assert (await _verify(client, headers, _next_code(secret))).status_code == 429


async def test_wrong_confirm_codes_count_toward_the_lock(client) -> None:
    _, headers = await auth_headers(client)
    secret = _secret((await client.post("/api/security/otp/enroll", headers=headers)).json()["otpauthUri"])
    wrong = await _wrong(secret)
    for _ in range(5):
        response = await client.post("/api/security/otp/confirm", json={"code": wrong}, headers=headers)
        assert response.status_code == 401
    locked = await client.post(
        "/api/security/otp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert locked.status_code == 429 and locked.json()["error"] == "VERIFICATION_LOCKED"


async def test_ten_concurrent_copies_of_one_right_code_are_accepted_once(client, app) -> None:
    user, headers, secret = await _enrolled(client)
    code, step = _next_step(secret)
    answers = await asyncio.gather(*(_verify(client, headers, code) for _ in range(10)))
    assert [a.status_code for a in answers].count(200) == 1
    assert all(a.status_code in (401, 429) for a in answers if a.status_code != 200)
    used = await _db(app, "SELECT last_used_step FROM otp_authenticators WHERE user_id = :u", u=user["id"])
    assert used[0].last_used_step == step


async def test_ten_concurrent_copies_of_one_sent_code_are_accepted_once(client, app) -> None:
    user, headers = await auth_headers(client)
    assert (await client.post("/api/security/otp/send", headers=headers)).status_code == 202
    code = await _sent_code(app, user["id"])
    answers = await asyncio.gather(*(_verify(client, headers, code) for _ in range(10)))
    assert [a.status_code for a in answers].count(200) == 1
    used = await _db(app, "SELECT used_at FROM otp_codes WHERE user_id = :u", u=user["id"])
    assert used[0].used_at is not None


async def test_the_routes_need_a_token(client) -> None:
    for path in ("enroll", "confirm", "send"):
        response = await client.post(f"/api/security/otp/{path}", json={"code": "123456"})
        assert response.status_code == 401
    assert (await client.get(PROBE, headers={"X-Verification-Code": "123456"})).status_code == 401
