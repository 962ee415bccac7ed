"""Transfers over HTTP (spec section 1): P2P, Pix, TED, list, detail, cancel and receipt."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status

from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.transfers import pix, service, ted
from laura.bank.transfers.models import Transfer
from laura.bank.transfers.pix_preview import preview_pix
from laura.bank.transfers.receipt import receipt_pdf
from laura.bank.transfers.schemas import (
    CancelOut,
    CancelRequest,
    CategoryRequest,
    P2POut,
    P2PRequest,
    PixOut,
    PixPreviewOut,
    PixRequest,
    TedOut,
    TedRequest,
    TransferOut,
)
from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.core.pagination import Page, PageDep
from laura.core.replica import ReplicaSessionDep
from laura.core.statement import DatabaseDep, StatementIdempotency
from laura.identity.deps import CurrentUser, TokenCaller
from laura.identity.service import Caller, Principal

router = APIRouter(prefix="/api/transfers", tags=["transfers"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    402: {"description": "INSUFFICIENT_BALANCE or TRANSFER_LIMIT_EXCEEDED"},
    404: {"description": "USER_NOT_FOUND / TRANSFER_NOT_FOUND"},
    422: {"description": "VALIDATION_ERROR (e.g. a transfer to oneself)"},
    429: {"description": "More than the transfers allowed per hour (Retry-After)"},
}


async def _limit_transfers(request: Request, user_id: uuid.UUID, role: str) -> None:
    """Spec: 10 transfers per hour per user; admins are not limited."""
    if role != "admin":
        settings = request.app.state.settings
        await request.app.state.limiter.hit(
            settings.rate_limit_transfers,
            f"transfers:{user_id}",
            "Limite de transferências por hora atingido",
        )


async def _transfer_rate_limit(request: Request, user: CurrentUser) -> Principal:
    await _limit_transfers(request, user.id, user.role)
    return user


TransferUser = Annotated[Principal, Depends(_transfer_rate_limit)]


async def _transfer_rate_limit_by_token(request: Request, caller: TokenCaller) -> Caller:
    """The same limit for a one-statement route, whose statement checks the session itself."""
    await _limit_transfers(request, caller.id, caller.role)
    return caller


TransferCaller = Annotated[Caller, Depends(_transfer_rate_limit_by_token)]


async def _limits(request: Request) -> service.Limits:
    settings = request.app.state.settings
    return service.Limits(
        per_transfer=settings.transfer_max_amount,
        daily=settings.transfer_daily_limit,
        pix_night=settings.pix_night_limit,
        schedule_max_days=settings.schedule_max_days,
    )


LimitsDep = Annotated[service.Limits, Depends(_limits)]


async def _ted_fee(request: Request) -> Decimal:
    return Decimal(request.app.state.settings.ted_fee)


TedFeeDep = Annotated[Decimal, Depends(_ted_fee)]


@router.post("/p2p", status_code=status.HTTP_201_CREATED, response_model=P2POut, responses=_ERRORS)
async def p2p(
    body: P2PRequest,
    caller: TransferCaller,
    db: DatabaseDep,
    limits: LimitsDep,
    cache: BalanceCacheDep,
    idempotency: StatementIdempotency,
) -> Transfer:
    """Instant transfer to another customer of the bank."""
    return await service.send_p2p(
        db, caller=caller, data=body, limits=limits, cache=cache, idempotency=idempotency
    )


@router.post(
    "/pix",
    status_code=status.HTTP_201_CREATED,
    response_model=PixOut,
    responses={
        **_ERRORS,
        400: {"description": "INVALID_PIX_KEY / INVALID_BR_CODE"},
        422: {"description": "VALIDATION_ERROR, AMOUNT_MISMATCH, DYNAMIC_BR_CODE_UNSUPPORTED"},
    },
)
@idempotent()
async def send_pix(
    body: PixRequest, user: TransferUser, session: SessionDep, limits: LimitsDep, cache: BalanceCacheDep
) -> PixOut:
    """Pay a Pix key or static BR Code: COMPLETED at once to a key of ours, PENDING through the PSP
    otherwise, SCHEDULED with a future `scheduledFor`."""
    return PixOut.model_validate(
        await pix.send_pix_transfer(session, user_id=user.id, data=body, limits=limits, cache=cache)
    )


@router.post(
    "/pix/preview",
    response_model=PixPreviewOut,
    responses={
        400: {"description": "INVALID_PIX_KEY / INVALID_BR_CODE"},
        422: {"description": "VALIDATION_ERROR, SELF_TRANSFER, AMOUNT_MISMATCH, DYNAMIC_BR_CODE_UNSUPPORTED"},
    },
)
async def preview(body: PixRequest, user: CurrentUser, session: SessionDep) -> PixPreviewOut:
    """Who a Pix to this key or BR Code would pay (name and bank) and how much; nothing is sent."""
    return PixPreviewOut.model_validate(await preview_pix(session, user_id=user.id, data=body))


@router.post(
    "/ted",
    status_code=status.HTTP_201_CREATED,
    response_model=TedOut,
    responses={**_ERRORS, 422: {"description": "VALIDATION_ERROR or BANK_NOT_FOUND (unknown COMPE code)"}},
)
@idempotent()
async def send_ted(
    body: TedRequest,
    user: TransferUser,
    session: SessionDep,
    limits: LimitsDep,
    fee: TedFeeDep,
    cache: BalanceCacheDep,
) -> TedOut:
    """TED to another bank: amount + fee held now, settled (COMPLETED) at `estimatedDelivery`."""
    return TedOut.model_validate(
        await ted.send_ted(session, user_id=user.id, data=body, limits=limits, fee=fee, cache=cache)
    )


@router.get("", response_model=Page[TransferOut])
async def list_transfers(
    user: CurrentUser,
    session: ReplicaSessionDep,
    page: PageDep,
    status_: Annotated[
        Literal["SCHEDULED", "PENDING", "COMPLETED", "FAILED", "CANCELLED"] | None, Query(alias="status")
    ] = None,
    type: Annotated[Literal["PIX", "TED", "P2P"] | None, Query()] = None,
    sort: Annotated[Literal["created_at", "amount", "status"], Query()] = "created_at",
    order: Annotated[Literal["ASC", "DESC", "asc", "desc"], Query()] = "DESC",
) -> Page[TransferOut]:
    """The caller's transfers, newest first by default (spec pagination shape); on the replica when there
    is one. One transfer (`/{id}`, its receipt) is read on the primary: its id comes from the POST just made."""
    rows, total = await service.list_transfers(
        session,
        user.id,
        status=status_,
        type=type,
        sort=sort,
        descending=order.upper() == "DESC",
        offset=page.offset,
        limit=page.limit,
    )
    return Page[TransferOut].build([TransferOut.model_validate(t) for t in rows], page, total)


@router.get(
    "/{transfer_id}", response_model=TransferOut, responses={404: {"description": "TRANSFER_NOT_FOUND"}}
)
async def get_transfer(transfer_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> TransferOut:
    return TransferOut.model_validate(await service.get_transfer(session, user.id, transfer_id))


@router.patch(
    "/{transfer_id}",
    response_model=TransferOut,
    responses={404: {"description": "TRANSFER_NOT_FOUND"}, 422: {"description": "VALIDATION_ERROR"}},
)
async def categorize(
    transfer_id: uuid.UUID, body: CategoryRequest, user: CurrentUser, session: SessionDep
) -> TransferOut:
    """Tag the transfer with the spending category it counts in (budgets and analytics); null: TRANSFERS."""
    return TransferOut.model_validate(
        await service.categorize_transfer(session, user.id, transfer_id, body.category)
    )


@router.post(
    "/{transfer_id}/cancel",
    response_model=CancelOut,
    responses={404: {"description": "TRANSFER_NOT_FOUND"}, 409: {"description": "TRANSFER_NOT_CANCELLABLE"}},
)
@idempotent()
async def cancel(
    transfer_id: uuid.UUID,
    body: CancelRequest,
    user: CurrentUser,
    session: SessionDep,
    cache: BalanceCacheDep,
) -> CancelOut:
    """Cancel a SCHEDULED transfer, or a PENDING one not yet sent; its held money is released."""
    return CancelOut.model_validate(
        await service.cancel_transfer(
            session, user_id=user.id, transfer_id=transfer_id, reason=body.reason, cache=cache
        )
    )


@router.get(
    "/{transfer_id}/receipt",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "TRANSFER_NOT_FOUND"}},
)
async def receipt(transfer_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """The comprovante as a PDF: parties, amount, times, e2eId and authentication code."""
    transfer, recipient_name = await service.receipt_parties(session, user.id, transfer_id)
    return Response(
        receipt_pdf(transfer, user.name, recipient_name),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="comprovante-{transfer.id}.pdf"'},
    )
