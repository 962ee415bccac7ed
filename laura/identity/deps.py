"""`CurrentUser` and `require_role(...)`: the only way a route learns who is calling; `VerifiedByCode`, the
way a sensitive route asks the caller for a one-time code."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator

from laura.core.db import SessionDep
from laura.core.errors import Forbidden
from laura.core.observability import request_context
from laura.core.text import refuse_nul
from laura.identity.errors import InvalidToken
from laura.identity.otp.deps import VerifierDep
from laura.identity.otp.service import VerificationMethod
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


async def _bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken("Missing bearer token")
    return credentials.credentials


BearerToken = Annotated[str, Depends(_bearer_token)]


def _identify(user_id: uuid.UUID) -> None:
    """Name the caller in the request's context (logs, audit rows, idempotency keys)."""
    ctx = request_context()
    if ctx is not None:
        ctx.user_id = str(user_id)


async def _current_user(service: IdentityServiceDep, token: BearerToken) -> Principal:
    principal = await service.authenticate(token)
    _identify(principal.id)
    return principal


CurrentUser = Annotated[Principal, Depends(_current_user)]


async def _token_caller(request: Request, token: BearerToken) -> Caller:
    caller = caller_from_token(request.app.state.signer, token)
    _identify(caller.id)
    return caller


TokenCaller = Annotated[Caller, Depends(_token_caller)]
"""The caller as the access token says, with no query: only for a route whose one statement checks the
session itself (`auth_session_live`) and answers `session_ended()` when it is gone."""


def _ensure_role(role: str, roles: tuple[str, ...]) -> None:
    if role != "admin" and role not in roles:
        raise Forbidden()


def require_role(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through only the given roles (admin always passes)."""

    async def check(user: CurrentUser) -> Principal:
        _ensure_role(user.role, roles)
        return user

    return check


def require_caller_role(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """`require_role` for a `TokenCaller` route: the role the access token was issued with."""

    async def check(caller: TokenCaller) -> Caller:
        _ensure_role(caller.role, roles)
        return caller

    return check


AdminUser = Annotated[Principal, Depends(require_role("admin"))]
StaffUser = Annotated[Principal, Depends(require_role("staff"))]


VerificationCodeHeader = Annotated[
    str | None,
    Header(alias="X-Verification-Code", description="A TOTP of the user's authenticator, or a sent code"),
    AfterValidator(refuse_nul),
]
"""The `X-Verification-Code` header: a dependency that must refuse a malformed header before it answers
anything else (a 404 for another's resource) declares it too (see `laura.bank.cards.deps.CardToReveal`)."""


async def _verified_by_code(
    user: CurrentUser, checker: VerifierDep, code: VerificationCodeHeader = None
) -> VerificationMethod:
    return await checker.verify(user.id, code)


VerifiedByCode = Annotated[VerificationMethod, Depends(_verified_by_code)]
"""The caller passed a one-time code (`X-Verification-Code`), each code once: missing 401
`VERIFICATION_REQUIRED`, wrong 401 `INVALID_VERIFICATION_CODE`, locked after too many wrong ones 429
`VERIFICATION_LOCKED`. Its value says how (`totp` or `code`), for the route's audit row. The code is used
(and a wrong one counted) in transactions of their own, whatever the route then does."""
