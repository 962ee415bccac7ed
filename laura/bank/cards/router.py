"""Cards over HTTP (spec section 2): list, create a virtual card, block/unblock, cancel, reveal details."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from laura.bank.cards import (
    hooks,  # noqa: F401 - registers the debit-card hook at app start
    service,
)
from laura.bank.cards.deps import CardToReveal, IssuerDep
from laura.bank.cards.schemas import (
    BlockOut,
    BlockRequest,
    CancelOut,
    CardDetails,
    CardList,
    VirtualCardOut,
    VirtualCardRequest,
)
from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.core.models import utcnow
from laura.core.statement import DatabaseDep
from laura.identity.deps import CurrentUser, VerifiedByCode

router = APIRouter(prefix="/api/cards", tags=["cards"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "CARD_NOT_FOUND (another customer's card too)"}
}
_CHANGE: dict[int | str, dict[str, Any]] = {
    **_NOT_FOUND,
    409: {"description": "CARD_PERMANENTLY_BLOCKED: the card is LOST, STOLEN or CANCELLED"},
}


def _without_secrets(answer: Any) -> Any:
    """The replay of a new virtual card: everything but its number and CVV (`/details` shows them)."""
    return {**answer, "number": None, "cvv": None}


@router.get("", response_model=CardList)
async def list_cards(user: CurrentUser, session: SessionDep) -> CardList:
    """Every card of the caller, cancelled and lost ones too, with what each spent in Brasília's day and month."""
    return await service.list_cards(session, user.id, now=utcnow())


@router.post(
    "/virtual",
    status_code=status.HTTP_201_CREATED,
    response_model=VirtualCardOut,
    responses={
        403: {"description": "ACCOUNT_NOT_ACTIVE"},
        404: {"description": "ACCOUNT_NOT_FOUND"},
        422: {
            "description": "VALIDATION_ERROR (limit), INVALID_EXPIRY_DATE, VIRTUAL_CARD_LIMIT_REACHED, "
            "PHYSICAL_CARD_REQUIRED"
        },
    },
)
@idempotent(stored=_without_secrets)
async def create_virtual(
    body: VirtualCardRequest, user: CurrentUser, session: SessionDep, issuer: IssuerDep
) -> VirtualCardOut:
    """A virtual card; its full number and CVV are in this answer only (a replay of it omits them)."""
    return await service.create_virtual(session, issuer, user.id, body)


@router.post("/{card_id}/block", response_model=BlockOut, responses=_CHANGE)
@idempotent()
async def block(
    card_id: uuid.UUID, body: BlockRequest, user: CurrentUser, session: SessionDep, issuer: IssuerDep
) -> BlockOut:
    """BLOCK or UNBLOCK; reason LOST or STOLEN ends the card (and replaces a physical one)."""
    return await service.set_block(session, issuer, user.id, card_id, body)


@router.post(
    "/{card_id}/cancel",
    response_model=CancelOut,
    responses={
        **_CHANGE,
        409: {"description": "CARD_NOT_CANCELLABLE (a physical card), CARD_PERMANENTLY_BLOCKED"},
    },
)
@idempotent()
async def cancel(card_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> CancelOut:
    """Cancel a virtual card for good; it stays listed as CANCELLED."""
    return await service.cancel_virtual(session, user.id, card_id)


@router.get(
    "/{card_id}/details",
    response_model=CardDetails,
    responses={
        **_NOT_FOUND,
        401: {"description": "VERIFICATION_REQUIRED (no X-Verification-Code), INVALID_VERIFICATION_CODE"},
        429: {"description": "Too many wrong codes: details are locked for a while (Retry-After)"},
    },
)
async def details(
    card: CardToReveal, _: VerifiedByCode, db: DatabaseDep, issuer: IssuerDep, response: Response
) -> CardDetails:
    """The card's full number and CVV, with a one-time code (`X-Verification-Code`); audited, never cached."""
    response.headers["Cache-Control"] = "no-store"
    return await service.reveal(db, issuer.keyring, card)
