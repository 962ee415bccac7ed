"""Who is on the other end of a socket, checked the same way `CurrentUser` checks a request (an access
token), or the way a web page checks its visitor (the session cookie)."""

from __future__ import annotations

from dataclasses import dataclass

from laura.core.db import Database
from laura.core.security import TokenError, TokenSigner
from laura.identity.errors import InvalidToken
from laura.identity.service import AuthPolicy, IdentityService, Principal
from laura.identity.session_cookie import unseal
from laura.settings import Settings


@dataclass(frozen=True)
class SocketIdentity:
    principal: Principal
    expires_at: float
    """The access token's `exp`, or the session cookie's end (Unix time): the socket closes then at the
    latest."""


def _policy(settings: Settings) -> AuthPolicy:
    return AuthPolicy(
        access_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        password_min_length=settings.password_min_length,
        login_limit=settings.rate_limit_login,
    )


async def authenticate(
    *, db: Database, signer: TokenSigner, settings: Settings, token: str | None
) -> SocketIdentity:
    """Signature, expiry, and a live session on the primary (so a logout is seen at the next check)."""
    if not token:
        raise InvalidToken("Missing access token")
    try:
        expires_at = float(signer.verify(token)["exp"])
    except TokenError as exc:
        raise InvalidToken() from exc
    async with db.sessionmaker() as session:
        principal = await IdentityService(session, signer=signer, policy=_policy(settings)).authenticate(
            token
        )
    return SocketIdentity(principal=principal, expires_at=expires_at)


async def authenticate_cookie(
    *, db: Database, signer: TokenSigner, settings: Settings, secret: str, cookie: str | None
) -> SocketIdentity:
    """The web session cookie's signature and age, and its session still live on the primary (the check
    every page makes), so a logout from the web or the API closes the socket at the next check."""
    max_age = settings.refresh_token_ttl_seconds
    found = unseal(secret, cookie, max_age)
    if found is None:
        raise InvalidToken("Missing or invalid session cookie")
    async with db.sessionmaker() as session:
        principal = await IdentityService(session, signer=signer, policy=_policy(settings)).session_principal(
            found.session_id, found.user_id
        )
    return SocketIdentity(principal=principal, expires_at=found.signed_at + max_age)
