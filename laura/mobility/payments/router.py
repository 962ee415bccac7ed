"""GET /rides/{id}/payment (passenger, driver, admin) and POST /payments/intent (the passenger's new charge)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from laura.core.db import SessionDep
from laura.core.statement import DatabaseDep
from laura.identity.deps import CurrentUser, TokenCaller
from laura.mobility.deps import SettingsDep
from laura.mobility.payments import service
from laura.mobility.payments.schemas import PaymentIntentRequest, PaymentOut
from laura.mobility.rides.lifecycle import utcnow
from laura.pix.deps import PspDep

router = APIRouter(tags=["payments"])


@router.get(
    "/rides/{ride_id}/payment",
    response_model=PaymentOut,
    responses={404: {"description": "RIDE_NOT_FOUND / PAYMENT_NOT_FOUND"}},
)
async def ride_payment(ride_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> PaymentOut:
    """The ride's payment: the newest intent, its Pix charge (QR Code, copy-and-paste code) and status."""
    view = await service.ride_payment(session, user=user, ride_id=ride_id)
    return PaymentOut.model_validate(view.wire())


@router.post(
    "/payments/intent",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    responses={
        200: {"description": "The ride's live charge, unchanged"},
        404: {"description": "RIDE_NOT_FOUND"},
        409: {"description": "RIDE_NOT_PAYABLE"},
        502: {"description": "The PSP is unavailable"},
    },
)
async def payment_intent(
    body: PaymentIntentRequest,
    caller: TokenCaller,
    db: DatabaseDep,
    psp: PspDep,
    settings: SettingsDep,
    response: Response,
) -> PaymentOut:
    """A live Pix charge for the caller's completed ride: a fresh one when the last expired or failed or was
    never made, else the live one (200): one live charge per ride. No request session: the service runs
    its own short units of work, so no transaction is open while the PSP answers."""
    view, created = await service.request_payment(
        db, psp, caller=caller, ride_id=body.ride_id, now=utcnow(), pix_key=settings.psp_pix_key
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return PaymentOut.model_validate(view.wire())
