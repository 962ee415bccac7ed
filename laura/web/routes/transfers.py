"""P2P by e-mail in two steps, then its receipt.

The first step only looks the recipient up (`IdentityService.customer_by_email`) and shows their name; the
confirmation form carries an Idempotency-Key generated when it was rendered, and sending goes through
`transfers.service.send_p2p` with that key exactly as `POST /api/transfers/p2p` does. So a double click or
a refresh of the confirmation sends once: a repeat waits for the first to finish and then shows the same
receipt."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.transfers import service
from laura.bank.transfers.errors import TransferNotFound
from laura.bank.transfers.schemas import P2PRequest
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.idempotency import IdempotentReplay, RequestInProgress, fingerprint
from laura.core.money import from_cents
from laura.core.statement import StatementKey
from laura.identity.deps import IdentityServiceDep
from laura.identity.service import Caller
from laura.web import forms
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.session import WebUser
from laura.web.transfer_details import receipt_lines
from laura.web.transfer_limits import limit_transfers, parse_amount, transfer_limits

router = APIRouter(include_in_schema=False)
_IN_PROGRESS_WAITS = 40
_IN_PROGRESS_STEP_SECONDS = 0.25
"""A repeated confirmation waits up to 10 s for the first one, then shows its receipt."""
_FIELDS = ("email", "amount", "description")


def _form_page(
    request: Request, values: dict[str, str], errors: forms.FormErrors, status: int = 200
) -> Response:
    return page(request, "p2p.html", status_code=status, values=values, errors=errors)


@router.get("/transfers/p2p", response_class=HTMLResponse)
async def p2p_form(request: Request, user: WebUser) -> Response:
    return _form_page(request, {}, forms.FormErrors())


@router.post("/transfers/p2p", response_class=HTMLResponse)
async def p2p_review(request: Request, user: WebUser, identity: IdentityServiceDep) -> Response:
    """Step one: who and how much; nothing moves yet."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    errors = forms.FormErrors()
    amount = parse_amount(values["amount"])
    if amount is None:
        errors.add("amount", N_("Enter an amount greater than zero, like 12,34."))
    if len(values["description"]) > 140:
        errors.add("description", N_("The description can have at most 140 characters."))
    recipient = await identity.customer_by_email(values["email"]) if "@" in values["email"] else None
    if recipient is None:
        errors.add("email", N_("No customer of the bank has this e-mail."))
    elif recipient[0] == user.id:
        errors.add("email", N_("You cannot send money to yourself."))
    if errors or recipient is None or amount is None:
        return _form_page(request, values, errors, status=422)
    return page(
        request,
        "p2p_confirm.html",
        values=values,
        amount=amount,
        recipient_id=recipient[0],
        recipient_name=recipient[1],
        idempotency_key=str(uuid.uuid4()),
        errors=forms.FormErrors(),
    )


@router.post("/transfers/p2p/confirm", response_class=HTMLResponse)
async def p2p_send(request: Request, user: WebUser, cache: BalanceCacheDep) -> Response:
    """Step two: the money moves, once per Idempotency-Key."""
    body = await request.body()  # before the form: the Idempotency-Key's fingerprint is of these bytes
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    key = str(form.get("idempotency_key", ""))
    amount = parse_amount(values["amount"])
    try:
        data = P2PRequest(
            recipient_user_id=uuid.UUID(str(form.get("recipient_id", ""))),
            amount=amount or Decimal(0),
            description=values["description"] or None,
        )
        uuid.UUID(key)
    except (ValidationError, ValueError):
        return _form_page(request, values, forms.from_code("VALIDATION_ERROR", [{"field": "amount"}]), 422)
    try:
        await limit_transfers(request, user)
    except AppError as error:  # 429: a sentence on the form, never the API's JSON
        return _form_page(request, values, forms.from_app_error(error), status=error.status)
    caller = Caller(id=user.id, role=user.role, session_id=user.session_id)
    for _ in range(_IN_PROGRESS_WAITS):
        idempotency = StatementKey(request, key, fingerprint(request, body))
        try:
            transfer = await service.send_p2p(
                request.app.state.db,
                caller=caller,
                data=data,
                limits=transfer_limits(request),
                cache=cache,
                idempotency=idempotency,
            )
            return RedirectResponse(f"/transfers/{transfer.id}", status_code=303)
        except IdempotentReplay as replay:
            answer = replay.body if isinstance(replay.body, dict) else {}
            if replay.status < 300 and "id" in answer:
                return RedirectResponse(f"/transfers/{answer['id']}", status_code=303)
            errors = forms.from_code(str(answer.get("error", "")), answer.get("details"))
            return _form_page(request, values, errors, status=replay.status)
        except RequestInProgress:
            await asyncio.sleep(_IN_PROGRESS_STEP_SECONDS)
        except AppError as error:
            return _form_page(request, values, forms.from_app_error(error), status=error.status)
    return _form_page(request, values, forms.from_code("REQUEST_IN_PROGRESS"), status=409)


@router.get("/transfers/{transfer_id}", response_class=HTMLResponse)
async def receipt(request: Request, transfer_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    """The sender's receipt; anyone else's transfer is not found (404), as in the API."""
    try:
        transfer, recipient_name = await service.receipt_parties(session, user.id, transfer_id)
    except TransferNotFound:
        return page(request, "not_found.html", status_code=404, user=user)
    return page(
        request,
        "receipt.html",
        user=user,
        transfer=transfer,
        amount=from_cents(transfer.amount_cents),
        recipient_name=recipient_name,
        lines=receipt_lines(transfer),
    )
