"""Pix by key or copia-e-cola, in two steps, then its receipt.

One field takes either a Pix key (CPF, CNPJ, e-mail, phone, random) or a pasted copia-e-cola code (a
static BR Code, which begins `000201`), as a bank app's "Pix key or copia-e-cola" does. The first step only
asks `pix_preview.preview_pix` who would be paid (the recipient's name and bank) and shows it; the
confirmation carries an Idempotency-Key made when it was rendered, and sending is
`transfers.pix.send_pix_transfer`, the service behind `POST /api/transfers/pix`, under core's `run_once`
(`web.once`), so a double click or a refresh of the confirmation sends once and shows the same receipt."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.cache import BalanceCache
from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.transfers import pix
from laura.bank.transfers.pix_preview import PixPreview, preview_pix
from laura.bank.transfers.schemas import PixOut, PixRequest
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.identity.service import Principal
from laura.web import forms, once, pix_labels
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.session import WebUser
from laura.web.transfer_limits import parse_amount, transfer_limits
from laura.web.transfer_send import send_once

router = APIRouter(include_in_schema=False)
_FIELDS = ("target", "amount", "description")
BR_CODE_START = "000201"
"""Every BR Code (EMV QR) begins with its payload format indicator, `00 02 01`."""

_ERRORS: dict[str, tuple[str, str]] = {
    "INVALID_PIX_KEY": (
        "target",
        N_("This is not a valid Pix key. Check the CPF, CNPJ, e-mail, phone or random key."),
    ),
    "INVALID_BR_CODE": (
        "target",
        N_("This copia-e-cola code is not valid. Copy it again from the QR's page."),
    ),
    "DYNAMIC_BR_CODE_UNSUPPORTED": (
        "target",
        N_(
            "This code is a dynamic charge, which cannot be paid here yet. Ask for a Pix key or a static code."
        ),
    ),
    "AMOUNT_MISMATCH": (
        "amount",
        N_("The code sets its own amount: leave the amount empty or type the same."),
    ),
    "SELF_TRANSFER": ("target", N_("This Pix key is yours. Choose someone else's key.")),
    "USER_NOT_FOUND": ("target", N_("The account of this key cannot receive Pix right now.")),
}


def errors_of(code: str, details: object = None) -> forms.FormErrors:
    """A refusal as a sentence next to its field; an amount missing from a code reads next to the amount."""
    if code in _ERRORS:
        errors = forms.FormErrors()
        errors.add(*_ERRORS[code])
        return errors
    if code == "VALIDATION_ERROR":
        errors = forms.FormErrors()
        errors.add("amount", N_("Enter an amount greater than zero, like 12,34."))
        return errors
    return forms.from_code(code, details)


def _request(values: dict[str, str]) -> tuple[PixRequest | None, forms.FormErrors]:
    """The API's request for what the form says, or the sentences of what is missing."""
    errors = forms.FormErrors()
    target = values["target"].strip()
    is_code = target.startswith(BR_CODE_START)
    amount = parse_amount(values["amount"]) if values["amount"] else None
    if not target:
        errors.add("target", N_("Enter a Pix key or paste a copia-e-cola code."))
    if amount is None and (values["amount"] or not is_code):  # a code may carry its own amount
        errors.add("amount", N_("Enter an amount greater than zero, like 12,34."))
    if len(values["description"]) > 140:
        errors.add("description", N_("The description can have at most 140 characters."))
    if errors:
        return None, errors
    try:
        data = PixRequest(
            pix_key=None if is_code else target,
            br_code=target if is_code else None,
            amount=amount,
            description=values["description"] or None,
        )
    except ValidationError:
        errors.add("target", _ERRORS["INVALID_BR_CODE" if is_code else "INVALID_PIX_KEY"][1])
        return None, errors
    return data, errors


def _form_page(
    request: Request, values: dict[str, str], errors: forms.FormErrors, status: int = 200
) -> Response:
    return page(request, "pix/send.html", status_code=status, values=values, errors=errors)


def _confirm_page(
    request: Request, values: dict[str, str], preview: PixPreview, key: str, **extra: Any
) -> Response:
    return page(
        request,
        "pix/confirm.html",
        values=values,
        preview=preview,
        idempotency_key=key,
        key_type=pix_labels.key_type,
        **extra,
    )


@router.get("/pix/send", response_class=HTMLResponse)
async def send_form(request: Request, user: WebUser) -> Response:
    values = {name: str(request.query_params.get(name, "")) for name in _FIELDS}
    return _form_page(request, values, forms.FormErrors())


@router.post("/pix/send", response_class=HTMLResponse)
async def review(request: Request, user: WebUser, session: SessionDep) -> Response:
    """Step one: who would be paid and how much; nothing moves yet."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    data, errors = _request(values)
    if data is None:
        return _form_page(request, values, errors, status=422)
    try:
        preview = await preview_pix(session, user_id=user.id, data=data)
    except AppError as error:
        return _form_page(request, values, errors_of(error.error, error.details), status=error.status)
    return _confirm_page(request, values, preview, once.new_key())


@router.post("/pix/send/confirm", response_class=HTMLResponse)
async def send(request: Request, user: WebUser, session: SessionDep, cache: BalanceCacheDep) -> Response:
    """Step two: the money moves, once per Idempotency-Key."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    key = once.valid_key(form.get("idempotency_key"))
    data, errors = _request(values)
    if data is None or key is None:
        return _form_page(request, values, errors or errors_of("VALIDATION_ERROR"), status=422)
    return await send_once(
        request,
        session,
        user,
        key=key,
        values=values,
        send=lambda: _send(request, session, user, data, cache),
        refused=lambda errors, status: _form_page(request, values, errors, status=status),
        errors_of=errors_of,
    )


async def _send(
    request: Request, session: AsyncSession, user: Principal, data: PixRequest, cache: BalanceCache
) -> PixOut:
    transfer = await pix.send_pix_transfer(
        session, user_id=user.id, data=data, limits=transfer_limits(request), cache=cache
    )
    return PixOut.model_validate(transfer)
