"""The web session cookie's value: an `auth_sessions` row's id and its user's id, signed and dated.

It lives here, beside the sessions it names, because two edges read it: the web app's pages
(`laura.web.session`) and the WebSocket (`laura.realtime`), which sits below the web app and so cannot
import it. Only the value is here; setting and clearing the cookie is the web app's."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "laura_session"
_SALT = "laura.web.session"


@dataclass(frozen=True)
class CookieSession:
    session_id: uuid.UUID
    user_id: uuid.UUID
    signed_at: float
    """Unix time the cookie was signed: it is worth nothing `max_age` seconds later."""


def web_secret(master_key: bytes) -> str:
    """The web app's signing key (session cookie, CSRF token), derived from the master key, so every
    instance behind a load balancer signs alike and no new secret needs configuring."""
    return hmac.new(master_key, b"laura.web", hashlib.sha256).hexdigest()


def seal(secret: str, session_id: uuid.UUID, user_id: uuid.UUID) -> str:
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps({"sid": str(session_id), "uid": str(user_id)})


def unseal(secret: str, value: str | None, max_age: int) -> CookieSession | None:
    """The ids a genuine cookie younger than `max_age` seconds names; None for anything else."""
    if not value:
        return None
    try:
        data, signed_at = URLSafeTimedSerializer(secret, salt=_SALT).loads(
            value, max_age=max_age, return_timestamp=True
        )
        return CookieSession(uuid.UUID(data["sid"]), uuid.UUID(data["uid"]), signed_at.timestamp())
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
