"""Scheduled transfers: the customer's SCHEDULED transfers and the TEDs still on their way (and the boletos
scheduled for a later day), and cancelling one after a confirmation step.

The list is `transfers.service.list_transfers` with `status=SCHEDULED`, as `GET /api/transfers?status=
SCHEDULED` answers; cancelling is `transfers.service.cancel_transfer`, as `POST /api/transfers/{id}/cancel`
does (the row is locked, so two clicks cancel once: the second finds it CANCELLED and shows the same
outcome). Someone else's transfer is not found (404)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.bills import service as bills
from laura.bank.bills.models import BillPaymentStatus
from laura.bank.transfers import service as transfers
from laura.bank.transfers.errors import TransferNotCancellable, TransferNotFound
from laura.bank.transfers.models import Transfer, TransferStatus
from laura.core.db import SessionDep
from laura.web import forms
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
_LISTED = 100
"""A customer's scheduled items on one page (the API's largest page)."""
_NOT_CANCELLABLE = N_("This transfer has already left or was cancelled, so it can no longer be cancelled.")
_REASON_TOO_LONG = N_("The reason can have at most 500 characters.")


async def _waiting(session: SessionDep, user_id: uuid.UUID, status: TransferStatus) -> list[Transfer]:
    rows, _ = await transfers.list_transfers(
        session,
        user_id,
        status=status,
        type=None,
        sort="created_at",
        descending=False,
        offset=0,
        limit=_LISTED,
    )
    return rows


async def _scheduled_transfers(session: SessionDep, user_id: uuid.UUID) -> list[Transfer]:
    """The SCHEDULED ones by their date, then the TEDs on their way that can still be called back."""
    scheduled = await _waiting(session, user_id, TransferStatus.SCHEDULED)
    on_their_way = [
        t for t in await _waiting(session, user_id, TransferStatus.PENDING) if transfers.cancellable(t)
    ]
    scheduled.sort(key=lambda t: (t.scheduled_for or t.created_at, t.created_at))
    return scheduled + on_their_way


@router.get("/scheduled", response_class=HTMLResponse)
async def scheduled(request: Request, user: WebUser, session: SessionDep) -> Response:
    """Next first: the transfers waiting for their date, then the boletos waiting for theirs."""
    payments, _ = await bills.list_payments(session, user.id, offset=0, limit=_LISTED)
    cancelled = request.query_params.get("cancelled")
    return page(
        request,
        "scheduled.html",
        transfers=await _scheduled_transfers(session, user.id),
        boletos=sorted(
            (p for p in payments if p.status == BillPaymentStatus.SCHEDULED), key=lambda p: p.payment_date
        ),
        cancelled=cancelled,
    )


async def _mine(session: SessionDep, user_id: uuid.UUID, transfer_id: uuid.UUID) -> Transfer | None:
    try:
        return await transfers.get_transfer(session, user_id, transfer_id)
    except TransferNotFound:
        return None


def _confirmation(
    request: Request, transfer: Transfer, errors: forms.FormErrors, reason: str = "", status: int = 200
) -> Response:
    return page(
        request,
        "scheduled_cancel.html",
        status_code=status,
        transfer=transfer,
        cancellable=transfers.cancellable(transfer),
        errors=errors,
        reason=reason,
    )


@router.get("/scheduled/{transfer_id}/cancel", response_class=HTMLResponse)
async def cancel_review(
    request: Request, transfer_id: uuid.UUID, user: WebUser, session: SessionDep
) -> Response:
    """What will be cancelled, and a form that does it."""
    transfer = await _mine(session, user.id, transfer_id)
    if transfer is None:
        return page(request, "not_found.html", status_code=404)
    errors = forms.FormErrors()
    if not transfers.cancellable(transfer):
        errors.add(forms.GENERAL, _NOT_CANCELLABLE)
    return _confirmation(request, transfer, errors)


@router.post("/scheduled/{transfer_id}/cancel", response_class=HTMLResponse)
async def cancel(
    request: Request, transfer_id: uuid.UUID, user: WebUser, session: SessionDep, cache: BalanceCacheDep
) -> Response:
    """Cancel it (the service locks the row first, so it is read here only after an answer)."""
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    if len(reason) > 500:
        transfer = await _mine(session, user.id, transfer_id)
        if transfer is None:
            return page(request, "not_found.html", status_code=404)
        errors = forms.FormErrors()
        errors.add("reason", _REASON_TOO_LONG)
        return _confirmation(request, transfer, errors, reason, status=422)
    try:
        await transfers.cancel_transfer(
            session, user_id=user.id, transfer_id=transfer_id, reason=reason or None, cache=cache
        )
    except TransferNotFound:
        return page(request, "not_found.html", status_code=404)
    except TransferNotCancellable:
        current = await _mine(session, user.id, transfer_id)
        if current is not None and current.status != TransferStatus.CANCELLED:  # it left meanwhile
            errors = forms.FormErrors()
            errors.add(forms.GENERAL, _NOT_CANCELLABLE)
            return _confirmation(request, current, errors, reason, status=409)
    return RedirectResponse(f"/scheduled?cancelled={transfer_id}", status_code=303)
