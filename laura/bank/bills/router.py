"""Boletos over HTTP (spec section 3): validate, pay, list payments, receipt PDF."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import Response

from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.bills import service
from laura.bank.bills.receipt import receipt_pdf
from laura.bank.bills.schemas import PaymentOut, PayRequest, ValidateOut, ValidateRequest
from laura.core.db import SessionDep
from laura.core.idempotency import idempotent
from laura.core.pagination import Page, PageDep
from laura.identity.deps import CurrentUser

router = APIRouter(prefix="/api/bills", tags=["bills"])


def _schedule_max_days(request: Request) -> int:
    return request.app.state.settings.schedule_max_days


ScheduleMaxDays = Annotated[int, Depends(_schedule_max_days)]


@router.post(
    "/validate",
    response_model=ValidateOut,
    responses={400: {"description": "INVALID_BARCODE"}, 422: {"description": "AMOUNT_MISMATCH"}},
)
async def validate(body: ValidateRequest, user: CurrentUser, session: SessionDep) -> ValidateOut:
    """Decode a typed line or scanned barcode: type, bank, due date, amount, recipient."""
    return await service.validate(session, body.barcode, body.amount)


@router.post(
    "/pay",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentOut,
    responses={
        400: {"description": "INVALID_BARCODE"},
        402: {"description": "INSUFFICIENT_BALANCE or BILL_OVERDUE"},
        409: {"description": "BILL_ALREADY_PAID"},
        422: {"description": "AMOUNT_MISMATCH / VALIDATION_ERROR"},
    },
)
@idempotent()
async def pay(
    body: PayRequest, user: CurrentUser, session: SessionDep, cache: BalanceCacheDep, horizon: ScheduleMaxDays
) -> PaymentOut:
    """Pay now, or on a future `paymentDate` (SCHEDULED; paid by a job that morning), at most
    `LAURA_SCHEDULE_MAX_DAYS` ahead."""
    return PaymentOut.model_validate(
        await service.pay(session, user_id=user.id, data=body, cache=cache, schedule_max_days=horizon)
    )


@router.get("", response_model=Page[PaymentOut])
async def list_payments(user: CurrentUser, session: SessionDep, page: PageDep) -> Page[PaymentOut]:
    """The caller's bill payments, newest first."""
    rows, total = await service.list_payments(session, user.id, offset=page.offset, limit=page.limit)
    return Page[PaymentOut].build([PaymentOut.model_validate(p) for p in rows], page, total)


@router.get(
    "/payments/{payment_id}/receipt",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "BILL_NOT_FOUND"}},
)
async def receipt(payment_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """The comprovante as a PDF."""
    payment = await service.get_payment(session, user.id, payment_id)
    return Response(
        receipt_pdf(payment, user.name),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="comprovante-{payment.receipt}.pdf"'},
    )
