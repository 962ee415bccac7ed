"""POST /api/deposits/pix: a QR Code (and copy-and-paste code) to top up the caller's account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from laura.bank.deposits import service
from laura.bank.deposits.schemas import DepositOut, DepositRequest
from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.identity.deps import CurrentUser
from laura.pix.deps import PspDep

router = APIRouter(prefix="/api/deposits", tags=["deposits"])


async def _bank_pix_key(request: Request) -> str:
    """The bank's own key at the PSP, which deposit charges are paid to."""
    return str(request.app.state.settings.psp_pix_key)


BankPixKey = Annotated[str, Depends(_bank_pix_key)]


@router.post(
    "/pix",
    status_code=status.HTTP_201_CREATED,
    response_model=DepositOut,
    responses={404: {"description": "ACCOUNT_NOT_FOUND"}, 502: {"description": "The PSP is unavailable"}},
)
@idempotent()
async def deposit_pix(
    body: DepositRequest, user: CurrentUser, session: SessionDep, psp: PspDep, pix_key: BankPixKey
) -> DepositOut:
    """A dynamic Pix charge: once paid from any bank, the amount is credited to the caller's account."""
    return DepositOut.model_validate(
        await service.create_deposit(session, psp, user_id=user.id, amount=body.amount, pix_key=pix_key)
    )
