"""The web session: a cookie naming the same `auth_sessions` row the API's tokens name.

Signing in goes through `IdentityService.login` (its lockout and rate limit included) exactly as
`POST /auth/login` does; the cookie then carries the session's and user's ids, signed and dated
(itsdangerous), and every page checks the session is still live (`IdentityService.session_principal`), so
a logout, from the web or the API, ends it at once. The cookie is HttpOnly, SameSite=Lax, and Secure when
the request came over HTTPS (or from a trusted proxy that says so)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from laura.core.observability import request_context
from laura.core.proxies import trusted_proxies
from laura.identity.deps import IdentityServiceDep
from laura.identity.errors import InvalidToken
from laura.identity.service import Principal
from laura.identity.session_cookie import COOKIE, seal, unseal


class LoginRequired(Exception):
    """A page for signed-in people asked by a visitor: answered with a redirect to /login."""


def is_https(scope: Any) -> bool:
    if scope.get("scheme") == "https":
        return True
    app = scope.get("app")
    if app is None:
        return False
    peer = (scope.get("client") or (None,))[0]
    proxies = trusted_proxies(tuple(app.state.settings.trusted_proxies))
    proto = dict(scope.get("headers") or []).get(b"x-forwarded-proto", b"").decode("latin-1")
    return peer in proxies and proto.split(",")[0].strip().lower() == "https"


def start(request: Request, response: Response, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Set the cookie for a session `login` just opened; it lives as long as the session's refresh tokens."""
    value = seal(request.app.state.web_secret, session_id, user_id)
    response.set_cookie(
        COOKIE,
        value,
        max_age=request.app.state.settings.refresh_token_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=is_https(request.scope),
        path="/",
    )


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


async def _optional_user(request: Request, service: IdentityServiceDep) -> Principal | None:
    state = request.app.state
    cookie = unseal(state.web_secret, request.cookies.get(COOKIE), state.settings.refresh_token_ttl_seconds)
    if cookie is None:
        return None
    try:
        user = await service.session_principal(cookie.session_id, cookie.user_id)
    except InvalidToken:
        return None
    request.state.web_user = user  # the layout shows who is signed in
    return user


async def _web_user(user: Annotated[Principal | None, Depends(_optional_user)]) -> Principal:
    if user is None:
        raise LoginRequired()
    ctx = request_context()
    if ctx is not None:  # named in the logs, the audit rows and the Idempotency-Key's owner, as the API does
        ctx.user_id = str(user.id)
    return user


MaybeWebUser = Annotated[Principal | None, Depends(_optional_user)]
WebUser = Annotated[Principal, Depends(_web_user)]
"""The signed-in person of a page; a visitor (no cookie, a forged or old one, an ended session) is sent to
/login."""
