"""Receive by Pix: create a charge to the customer's account and show its QR and copia-e-cola.

Creating is `deposits.service.create_deposit`, the service behind `POST /api/deposits/pix`, under core's
`run_once` with the form's Idempotency-Key (a double click makes one charge). The charge's page
(`/pix/receive/{txid}`) reads it as `GET /pix/charges/{txid}` does (`pix.service.get_owned_charge`:
someone else's is not found). The QR is the PNG data URL the service renders; the copia-e-cola is plain
selectable text with a copy button for those with JavaScript. When the charge is paid, the
`deposit.received` event refreshes its status live."""

from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.deposits import service as deposits
from laura.bank.deposits.schemas import DepositOut
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.idempotency import RequestInProgress
from laura.identity.service import Principal
from laura.pix import service as pix
from laura.pix.deps import PspDep
from laura.pix.errors import ChargeNotFound
from laura.pix.psp import EfiClient, PspError, PspUnavailable
from laura.pix.schemas import ChargeOut
from laura.web import forms, once
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.session import WebUser
from laura.web.transfer_limits import parse_amount

router = APIRouter(include_in_schema=False)
_PSP_DOWN = N_("The Pix service is unavailable right now. Try again in a few minutes.")


def _form_page(
    request: Request, values: dict[str, str], errors: forms.FormErrors, key: str, status: int = 200
) -> Response:
    return page(
        request, "pix/receive.html", status_code=status, values=values, errors=errors, idempotency_key=key
    )


@router.get("/pix/receive", response_class=HTMLResponse)
async def receive_form(request: Request, user: WebUser) -> Response:
    return _form_page(request, {}, forms.FormErrors(), once.new_key())


@router.post("/pix/receive", response_class=HTMLResponse)
async def create_charge(request: Request, user: WebUser, session: SessionDep, psp: PspDep) -> Response:
    form = await request.form()
    values = {"amount": str(form.get("amount", "")).strip()}
    key = once.valid_key(form.get("idempotency_key"))
    amount = parse_amount(values["amount"])
    errors = forms.FormErrors()
    if amount is None or key is None:
        errors.add("amount", N_("Enter an amount greater than zero, like 12,34."))
        return _form_page(request, values, errors, once.new_key(), 422)
    pix_key = str(request.app.state.settings.psp_pix_key)
    try:
        created = await once.once(
            request,
            session,
            key,
            once.form_fingerprint(request, values),
            lambda: _create(session, psp, user.id, amount, pix_key),
            status=201,
        )
    except RequestInProgress:
        return _form_page(request, values, forms.from_code("REQUEST_IN_PROGRESS"), key, 409)
    except (PspError, PspUnavailable):
        errors.add(forms.GENERAL, _PSP_DOWN)
        return _form_page(request, values, errors, once.new_key(), 502)
    except AppError as error:
        return _form_page(request, values, forms.from_app_error(error), key, error.status)
    if isinstance(created, once.Replayed):
        if created.status >= 300 or "txid" not in created.body:
            code = str(created.body.get("error", ""))
            return _form_page(request, values, forms.from_code(code), once.new_key(), created.status)
        return RedirectResponse(f"/pix/receive/{created.body['txid']}", status_code=303)
    return RedirectResponse(f"/pix/receive/{created.txid}", status_code=303)


async def _create(
    session: AsyncSession, psp: EfiClient, user_id: uuid.UUID, amount: Decimal, pix_key: str
) -> DepositOut:
    charge = await deposits.create_deposit(session, psp, user_id=user_id, amount=amount, pix_key=pix_key)
    return DepositOut.model_validate(charge)


async def _charge(
    request: Request, session: AsyncSession, user: Principal, txid: str, template: str
) -> Response:
    try:
        charge = ChargeOut.model_validate(await pix.get_owned_charge(session, txid=txid, owner_id=user.id))
    except ChargeNotFound:
        return page(request, "not_found.html", status_code=404, user=user)
    return page(request, template, user=user, charge=charge)


@router.get("/pix/receive/{txid}", response_class=HTMLResponse)
async def charge_page(request: Request, txid: str, user: WebUser, session: SessionDep) -> Response:
    return await _charge(request, session, user, txid, "pix/charge.html")


@router.get("/pix/receive/{txid}/status", response_class=HTMLResponse)
async def charge_status(request: Request, txid: str, user: WebUser, session: SessionDep) -> Response:
    """The status part alone, swapped in when `deposit.received` arrives."""
    return await _charge(request, session, user, txid, "pix/_charge_status.html")
