"""TED to another bank in two steps, then its receipt.

The first step checks the form as `POST /api/transfers/ted` would (its `TedRequest`, the bank by COMPE
code) and shows the bank's name, the fee (`LAURA_TED_FEE`), the total held and the estimated delivery
(`calendar.ted_estimated_delivery`, the same rule the service applies) before anything moves. The
confirmation carries an Idempotency-Key made when it was rendered, and sending is `transfers.ted.send_ted`
under core's `run_once` (`web.once`): a double click or a refresh sends once and shows the same receipt."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts.cache import BalanceCache
from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.participants import all_participants, find_by_compe
from laura.bank.transfers import ted
from laura.bank.transfers.calendar import ted_estimated_delivery
from laura.bank.transfers.schemas import TedOut, TedRequest
from laura.core.db import SessionDep
from laura.core.models import utcnow
from laura.identity.service import Principal
from laura.web import forms, once
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.session import WebUser
from laura.web.transfer_limits import parse_amount, transfer_limits
from laura.web.transfer_send import send_once

router = APIRouter(include_in_schema=False)
_FIELDS = (
    "bank",
    "agency",
    "account",
    "account_type",
    "recipient_name",
    "recipient_document",
    "amount",
    "description",
)
ACCOUNT_TYPES = {"CHECKING": N_("Checking"), "SAVINGS": N_("Savings"), "PAYMENT": N_("Payment account")}
_BY_FIELD = {
    "bank": N_("Choose the recipient's bank."),
    "agency": N_("Enter the branch: 4 digits, with its check digit if it has one."),
    "account": N_("Enter the account number with its check digit, like 12345-6."),
    "account_type": N_("Choose the type of account."),
    "recipient_name": N_("Enter the recipient's full name."),
    "recipient_document": N_("Enter a valid CPF or CNPJ, or leave it empty."),
    "amount": N_("Enter an amount greater than zero, like 12,34."),
    "description": N_("The description can have at most 140 characters."),
}
_CAMEL = {
    "accountType": "account_type",
    "recipientName": "recipient_name",
    "recipientDocument": "recipient_document",
}


def _errors(code: str, details: object = None) -> forms.FormErrors:
    errors = forms.FormErrors()
    if code == "BANK_NOT_FOUND":
        errors.add("bank", _BY_FIELD["bank"])
    elif code == "VALIDATION_ERROR" and isinstance(details, list):
        for detail in details:
            name = _CAMEL.get(str(detail.get("field", "")), str(detail.get("field", "")))
            errors.add(name if name in _BY_FIELD else forms.GENERAL, _BY_FIELD.get(name, _BY_FIELD["amount"]))
    return errors or forms.from_code(code, details)


def _request(values: dict[str, str]) -> tuple[TedRequest | None, forms.FormErrors]:
    errors = forms.FormErrors()
    amount = parse_amount(values["amount"])
    if amount is None:
        errors.add("amount", _BY_FIELD["amount"])
    if find_by_compe(values["bank"]) is None:
        errors.add("bank", _BY_FIELD["bank"])
    try:
        data = TedRequest(
            bank=values["bank"],
            agency=values["agency"],
            account=values["account"],
            account_type=values["account_type"],  # type: ignore[arg-type]
            amount=amount or Decimal("0.01"),
            description=values["description"] or None,
            recipient_name=values["recipient_name"],
            recipient_document=values["recipient_document"] or None,
        )
    except ValidationError as error:
        for item in error.errors():
            name = str(item["loc"][0]) if item.get("loc") else ""
            errors.add(name if name in _BY_FIELD else forms.GENERAL, _BY_FIELD.get(name, _BY_FIELD["amount"]))
        return None, errors
    return (None, errors) if errors else (data, errors)


def _form_page(
    request: Request, values: dict[str, str], errors: forms.FormErrors, status: int = 200
) -> Response:
    return page(
        request,
        "ted/form.html",
        status_code=status,
        values=values,
        errors=errors,
        banks=all_participants(),
        account_types=ACCOUNT_TYPES,
    )


@router.get("/ted", response_class=HTMLResponse)
async def ted_form(request: Request, user: WebUser) -> Response:
    return _form_page(request, {"account_type": "CHECKING"}, forms.FormErrors())


@router.post("/ted", response_class=HTMLResponse)
async def review(request: Request, user: WebUser) -> Response:
    """Step one: the bank, fee, total and delivery; nothing moves yet."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    data, errors = _request(values)
    if data is None:
        return _form_page(request, values, errors, status=422)
    fee = Decimal(request.app.state.settings.ted_fee)
    return page(
        request,
        "ted/confirm.html",
        values=values,
        data=data,
        bank=find_by_compe(data.bank),
        account_type=ACCOUNT_TYPES[data.account_type],
        fee=fee,
        total=data.amount + fee,
        delivery=ted_estimated_delivery(utcnow()),
        idempotency_key=once.new_key(),
    )


@router.post("/ted/confirm", response_class=HTMLResponse)
async def send(request: Request, user: WebUser, session: SessionDep, cache: BalanceCacheDep) -> Response:
    """Step two: amount and fee held, once per Idempotency-Key."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    key = once.valid_key(form.get("idempotency_key"))
    data, errors = _request(values)
    if data is None or key is None:
        return _form_page(request, values, errors or _errors("VALIDATION_ERROR"), status=422)
    return await send_once(
        request,
        session,
        user,
        key=key,
        values=values,
        send=lambda: _send(request, session, user, data, cache),
        refused=lambda errors, status: _form_page(request, values, errors, status=status),
        errors_of=_errors,
    )


async def _send(
    request: Request, session: AsyncSession, user: Principal, data: TedRequest, cache: BalanceCache
) -> TedOut:
    fee = Decimal(request.app.state.settings.ted_fee)
    transfer = await ted.send_ted(
        session, user_id=user.id, data=data, limits=transfer_limits(request), fee=fee, cache=cache
    )
    return TedOut.model_validate(transfer)
