"""The caller's Pix keys: register, list, delete."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from laura.bank.pix_keys import service
from laura.bank.pix_keys.schemas import PixKeyCreate, PixKeyOut
from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.identity.deps import CurrentUser

router = APIRouter(prefix="/api/pix-keys", tags=["pix-keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PixKeyOut,
    responses={
        400: {"description": "INVALID_PIX_KEY"},
        409: {"description": "PIX_KEY_IN_USE"},
        422: {"description": "PIX_KEY_NOT_OWNED / PIX_KEY_LIMIT_REACHED / VALIDATION_ERROR"},
    },
)
@idempotent()
async def register_key(body: PixKeyCreate, user: CurrentUser, session: SessionDep) -> PixKeyOut:
    """Register a CPF, phone (the caller's own), e-mail or a bank-generated random key (EVP)."""
    return PixKeyOut.model_validate(await service.register_key(session, user_id=user.id, data=body))


@router.get("", response_model=list[PixKeyOut])
async def list_keys(user: CurrentUser, session: SessionDep) -> list[PixKeyOut]:
    """The caller's keys, oldest first (at most five)."""
    return [PixKeyOut.model_validate(k) for k in await service.list_keys(session, user.id)]


@router.delete(
    "/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"description": "PIX_KEY_NOT_FOUND"}}
)
async def delete_key(key_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """Remove a key; it no longer receives Pix and may be registered again."""
    await service.delete_key(session, user_id=user.id, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
