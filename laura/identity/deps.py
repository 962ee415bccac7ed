"""`CurrentUser` and `require_role(...)`: the only way a route learns who is calling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from laura.core.db import SessionDep
from laura.core.errors import Forbidden
from laura.core.observability import request_context
from laura.identity.errors import InvalidToken
from laura.identity.service import AuthPolicy, Caller, IdentityService, Principal, caller_from_token

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")


async def identity_service(request: Request, session: SessionDep) -> IdentityService:
    state = request.app.state
    settings = state.settings
    return IdentityService(
        session,
        signer=state.signer,
        limiter=state.limiter,
        policy=AuthPolicy(
            access_ttl_seconds=settings.access_token_ttl_seconds,
            refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
            password_min_length=settings.password_min_length,
            login_limit=settings.rate_limit_login,
        ),
    )


IdentityServiceDep = Annotated[IdentityService, Depends(identity_service)]


async def _current_user(
    service: IdentityServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken("Missing bearer token")
    principal = await service.authenticate(credentials.credentials)
    ctx = request_context()
    if ctx is not None:
        ctx.user_id = str(principal.id)
    return principal


CurrentUser = Annotated[Principal, Depends(_current_user)]


async def _token_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken("Missing bearer token")
    caller = caller_from_token(request.app.state.signer, credentials.credentials)
    ctx = request_context()
    if ctx is not None:
        ctx.user_id = str(caller.id)
    return caller


TokenCaller = Annotated[Caller, Depends(_token_caller)]
"""The caller as the access token says, with no query: only for a route whose one statement checks the
session itself (`auth_session_live`) and answers `session_ended()` when it is gone."""


def require_role(*roles: str) -> Callable[..., Principal]:
    """A dependency that lets through only the given roles (admin always passes)."""
    allowed = {*roles, "admin"}

    async def check(user: CurrentUser) -> Principal:
        if user.role not in allowed:
            raise Forbidden()
        return user

    return check


def require_caller_role(*roles: str) -> Callable[..., Caller]:
    """`require_role` for a `TokenCaller` route: the role the access token was issued with (admin always
    passes)."""
    allowed = {*roles, "admin"}

    async def check(caller: TokenCaller) -> Caller:
        if caller.role not in allowed:
            raise Forbidden()
        return caller

    return check


AdminUser = Annotated[Principal, Depends(require_role("admin"))]
StaffUser = Annotated[Principal, Depends(require_role("staff"))]
