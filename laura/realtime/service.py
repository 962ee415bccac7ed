"""Who is on the other end of a socket, checked the same way `CurrentUser` checks a request."""

from __future__ import annotations

from dataclasses import dataclass

from laura.core.db import Database
from laura.core.security import TokenError, TokenSigner
from laura.identity.errors import InvalidToken
from laura.identity.service import AuthPolicy, IdentityService, Principal
from laura.settings import Settings


@dataclass(frozen=True)
class SocketIdentity:
    principal: Principal
    expires_at: float
    """The access token's `exp` (Unix time): the socket closes then at the latest."""


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
    policy = AuthPolicy(
        access_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
        password_min_length=settings.password_min_length,
        login_limit=settings.rate_limit_login,
    )
    async with db.sessionmaker() as session:
        principal = await IdentityService(session, signer=signer, policy=policy).authenticate(token)
    return SocketIdentity(principal=principal, expires_at=expires_at)
