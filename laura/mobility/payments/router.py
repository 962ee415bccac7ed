"""GET /rides/{id}/payment (passenger, driver, admin), POST /payments/intent (the passenger's new charge),
POST /payments/{id}/pay-from-account (the passenger pays it from their Laura bank account), and the admins'
review of refunds owed (GET /admin/payments/refunds, POST /admin/payments/refunds/{id}/resolve)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.core.pagination import Page, PageDep
from laura.core.statement import DatabaseDep
from laura.identity.deps import AdminUser, CurrentUser, TokenCaller
from laura.mobility.deps import SettingsDep
from laura.mobility.payments import (
    fees,  # noqa: F401 - registers the cancel hook that asks for a cancellation fee
    from_account,
    refunds,
    service,
)
from laura.mobility.payments.errors import RefundAlreadyResolved, RefundNotFound
from laura.mobility.payments.models import RefundStatus
from laura.mobility.payments.schemas import PaymentIntentRequest, PaymentOut, RefundOut, ResolveRefundRequest
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


@router.post(
    "/payments/{intent_id}/pay-from-account",
    response_model=PaymentOut,
    responses={
        402: {"description": "INSUFFICIENT_BALANCE / TRANSFER_LIMIT_EXCEEDED"},
        403: {"description": "ACCOUNT_NOT_ACTIVE (the account is blocked)"},
        404: {"description": "PAYMENT_NOT_FOUND / ACCOUNT_NOT_FOUND"},
        409: {"description": "PAYMENT_NOT_PAYABLE / PIX_CHARGE_NOT_ACTIVE"},
    },
)
@idempotent()
async def pay_from_account(intent_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> PaymentOut:
    """Pay the caller's pending ride charge (fare or cancellation fee) from their Laura bank account, at
    once: an internal Pix, applied as the PSP's would be; the answer is the payment, CONFIRMED."""
    view = await from_account.pay_from_account(session, user=user, intent_id=intent_id, now=utcnow())
    return PaymentOut.model_validate(view.wire())


@router.get("/admin/payments/refunds", response_model=Page[RefundOut], tags=["admin"])
async def list_refunds(
    _: AdminUser, session: SessionDep, page: PageDep, status: RefundStatus | None = None
) -> Page[RefundOut]:
    """The review queue of refunds owed for rides (a second payment, a late one), oldest first; filter by
    `status` (OPEN, REFUNDED)."""
    found, total = await refunds.list_refunds(session, status=status, offset=page.offset, limit=page.limit)
    return Page[RefundOut].build([RefundOut.model_validate(r) for r in found], page, total)


@router.post(
    "/admin/payments/refunds/{refund_id}/resolve",
    response_model=RefundOut,
    tags=["admin"],
    responses={
        404: {"description": RefundNotFound.message},
        409: {"description": RefundAlreadyResolved.message},
    },
)
async def resolve_refund(
    refund_id: uuid.UUID, body: ResolveRefundRequest, admin: AdminUser, session: SessionDep
) -> RefundOut:
    """Record that the payer was refunded at the PSP: REFUNDED, D 2300 / C 1300, audited."""
    refund = await refunds.resolve_refund(
        session, refund_id=refund_id, admin_id=admin.id, note=body.note, now=utcnow()
    )
    return RefundOut.model_validate(refund)
