"""The card network's routes (issue 14, "Card authorizations"): the acquirer's authorization, and its
capture, void and refund. Authenticated by a processor key (`X-Api-Key`), never by a customer token."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.card_network import service
from laura.bank.card_network.deps import NetworkKey
from laura.bank.card_network.schemas import (
    AuthorizationOut,
    AuthorizationRequest,
    CaptureRequest,
    CardTransactionOut,
    RefundRequest,
)
from laura.core.db import SessionDep
from laura.core.statement import DatabaseDep

router = APIRouter(prefix="/api/card-network", tags=["card-network"], dependencies=[NetworkKey])

_ERRORS: dict[int | str, dict[str, Any]] = {401: {"description": "INVALID_API_KEY"}}
_CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"description": "AUTHORIZATION_NOT_FOUND"},
    409: {"description": "INVALID_AUTHORIZATION_STATE, AUTHORIZATION_EXPIRED, ALREADY_CAPTURED"},
    422: {"description": "VALIDATION_ERROR, AMOUNT_EXCEEDED"},
}


async def _network(request: Request) -> service.Network:
    settings = request.app.state.settings
    return service.Network(
        macs=request.app.state.card_macs, hold_seconds=settings.card_authorization_hold_days * 86400
    )


NetworkDep = Annotated[service.Network, Depends(_network)]


@router.post(
    "/authorizations",
    response_model=AuthorizationOut,
    response_model_exclude_none=True,
    responses={
        **_ERRORS,
        404: {"description": "CARD_NOT_FOUND: no card has this number (nothing is recorded)"},
        422: {"description": "VALIDATION_ERROR, IDEMPOTENCY_KEY_REUSED"},
    },
)
async def authorize(
    body: AuthorizationRequest, db: DatabaseDep, network: NetworkDep, cache: BalanceCacheDep
) -> AuthorizationOut:
    """Approve (a ledger hold on the customer's account) or decline (recorded, nothing moved). The same
    `idempotencyKey` answers the first answer again."""
    return await service.authorize(db, network, body, cache=cache)


@router.post(
    "/authorizations/{authorization_id}/capture", response_model=CardTransactionOut, responses=_CHANGE_ERRORS
)
async def capture(
    authorization_id: uuid.UUID, body: CaptureRequest, session: SessionDep, cache: BalanceCacheDep
) -> CardTransactionOut:
    """Post the hold, in full or `amount` of it (the rest is released)."""
    tx = await service.capture(session, authorization_id, body.amount, cache=cache)
    return service.transaction_out(tx)


@router.post(
    "/authorizations/{authorization_id}/void", response_model=CardTransactionOut, responses=_CHANGE_ERRORS
)
async def void(
    authorization_id: uuid.UUID, session: SessionDep, cache: BalanceCacheDep
) -> CardTransactionOut:
    """Release the hold: the purchase did not happen."""
    return service.transaction_out(await service.void(session, authorization_id, cache=cache))


@router.post(
    "/authorizations/{authorization_id}/refund", response_model=CardTransactionOut, responses=_CHANGE_ERRORS
)
async def refund(
    authorization_id: uuid.UUID, body: RefundRequest, session: SessionDep, cache: BalanceCacheDep
) -> CardTransactionOut:
    """Credit back part or all of a captured purchase (a new posting; the capture is never edited)."""
    tx = await service.refund(session, authorization_id, body.amount, body.idempotency_key, cache=cache)
    return service.transaction_out(tx)
