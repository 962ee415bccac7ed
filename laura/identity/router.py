"""`/auth/*` and the JWKS document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from laura.core.errors import AppError
from laura.core.idempotency import idempotent
from laura.core.security import TokenSigner
from laura.identity.deps import CurrentUser, IdentityServiceDep
from laura.identity.errors import CpfInUse, EmailInUse, InvalidCredentials, InvalidToken, RefreshTokenReused
from laura.identity.schemas import LoginRequest, RefreshRequest, RegisterRequest, TokenPair, UserOut

router = APIRouter(tags=["auth"])


def _responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    return {e.status: {"description": e.message} for e in errors}


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=_responses(EmailInUse, CpfInUse),
)
@idempotent()
async def register(body: RegisterRequest, service: IdentityServiceDep) -> UserOut:
    """Create a customer, passenger or driver account (staff and admin come from the CLI)."""
    return UserOut.model_validate(await service.register(body))


@router.post("/auth/login", response_model=TokenPair, responses=_responses(InvalidCredentials))
async def login(body: LoginRequest, service: IdentityServiceDep) -> TokenPair:
    """Exchange e-mail and password for an access token (15 min) and a refresh token (7 days)."""
    return await service.login(body)


@router.post(
    "/auth/refresh", response_model=TokenPair, responses=_responses(InvalidToken, RefreshTokenReused)
)
async def refresh(body: RefreshRequest, service: IdentityServiceDep) -> TokenPair:
    """Rotate the refresh token; a token used twice revokes its whole session."""
    return await service.refresh(body.refresh_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_responses(InvalidToken))
async def logout(user: CurrentUser, service: IdentityServiceDep) -> None:
    """Revoke this session: its access token stops working at once, its refresh tokens too."""
    await service.logout(user)


@router.get("/auth/me", response_model=UserOut, responses=_responses(InvalidToken))
async def me(user: CurrentUser, service: IdentityServiceDep) -> UserOut:
    return await service.profile(user.id)


@router.get("/.well-known/jwks.json", tags=["auth"])
async def jwks(request: Request) -> dict[str, Any]:
    """The public keys that verify access tokens (RS256), by `kid`."""
    signer: TokenSigner = request.app.state.signer
    return signer.jwks()
