"""Cards: the list with block/unblock, reporting a card lost and cancelling a virtual one (each after a
confirmation), a new virtual card whose number and CVV show once, and a card's details revealed after a
one-time code.

Each page calls `cards.service` as `/api/cards` does. A number or CVV is only ever in the answer to a POST
(never in a URL), which `page` sends with `Cache-Control: no-store`; the stored answer of a new card's
Idempotency-Key drops them, as the API's does, so a refresh of that page shows the card without them. The
reveal checks the card is the caller's before a code is spent, then the code (`Verifier`, each code once),
as `GET /api/cards/{id}/details` does."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.bank.cards import service
from laura.bank.cards.deps import IssuerDep
from laura.bank.cards.errors import CardNotFound
from laura.bank.cards.schemas import BlockAction, BlockRequest, VirtualCardRequest
from laura.bank.transfers.calendar import brasilia_day, day_start
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.models import utcnow
from laura.identity.otp.deps import OtpServiceDep, VerifierDep
from laura.web import forms, once
from laura.web.bank_labels import labelled_page
from laura.web.i18n import N_
from laura.web.session import WebUser
from laura.web.transfer_limits import parse_amount

router = APIRouter(include_in_schema=False)
_NEW_FIELDS = ("limit", "expires_on", "description")
_DEFAULT_VALID_DAYS = 30
_ERRORS: dict[str, tuple[str, str]] = {
    "INVALID_EXPIRY_DATE": ("expires_on", N_("Choose a future date, at most your physical card's expiry.")),
    "VIRTUAL_CARD_LIMIT_REACHED": (
        forms.GENERAL,
        N_("You have the most virtual cards allowed. Cancel or let one expire first."),
    ),
    "PHYSICAL_CARD_REQUIRED": (
        forms.GENERAL,
        N_("You need an active physical card to create a virtual one."),
    ),
    "ACCOUNT_NOT_ACTIVE": (forms.GENERAL, N_("This account cannot move money right now.")),
    "CARD_PERMANENTLY_BLOCKED": (
        forms.GENERAL,
        N_("This card was reported lost or stolen, or cancelled: it cannot be used again."),
    ),
    "VERIFICATION_REQUIRED": ("code", N_("Enter the code.")),
    "INVALID_VERIFICATION_CODE": ("code", N_("This code is not right or was already used.")),
    "VERIFICATION_LOCKED": ("code", N_("Too many wrong codes. Wait a few minutes and try again.")),
    "OTP_USE_AUTHENTICATOR": ("code", N_("Use the code your authenticator app shows.")),
    "OTP_SEND_TOO_SOON": ("code", N_("A code was sent a moment ago. Wait a little before asking again.")),
    "IDEMPOTENCY_KEY_REUSED": (forms.GENERAL, N_("This form was already sent. Open it again to start over.")),
    "CARD_NOT_CANCELLABLE": (
        forms.GENERAL,
        N_("Only a virtual card is cancelled; block a physical card or report it lost."),
    ),
}


def _errors(code: str, details: object = None) -> forms.FormErrors:
    if code in _ERRORS:
        errors = forms.FormErrors()
        errors.add(*_ERRORS[code])
        return errors
    if code == "VALIDATION_ERROR" and details:
        errors = forms.FormErrors()
        errors.add("limit", N_("Enter a limit greater than zero, like 500,00."))
        return errors
    return forms.from_code(code, details)


def _not_found(request: Request, user: Any) -> Response:
    return labelled_page(request, "not_found.html", status_code=404, user=user)


@router.get("/cards", response_class=HTMLResponse)
async def cards_page(request: Request, user: WebUser, session: SessionDep) -> Response:
    listed = await service.list_cards(session, user.id, now=utcnow())
    return labelled_page(request, "cards/list.html", cards=listed.data, errors=forms.FormErrors())


@router.post("/cards/{card_id}/block")
async def block(
    request: Request, card_id: uuid.UUID, user: WebUser, session: SessionDep, issuer: IssuerDep
) -> Response:
    """BLOCK or UNBLOCK (the form's `action`); repeating one changes nothing, as in the API."""
    form = await request.form()
    try:
        data = BlockRequest(action=BlockAction(str(form.get("action", ""))))
        await service.set_block(session, issuer, user.id, card_id, data)
    except (ValueError, ValidationError):
        return RedirectResponse("/cards", status_code=303)
    except CardNotFound as error:
        await once.undo(session, error)
        return _not_found(request, user)
    except AppError as error:
        await once.undo(session, error)
        listed = await service.list_cards(session, user.id, now=utcnow())
        return labelled_page(
            request, "cards/list.html", error.status, cards=listed.data, errors=_errors(error.error)
        )
    return RedirectResponse(f"/cards#card-{card_id}", status_code=303)


@router.get("/cards/{card_id}/lost", response_class=HTMLResponse)
async def lost_confirm(request: Request, card_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    try:
        card = await service.find_card(session, user.id, card_id)
    except CardNotFound:
        return _not_found(request, user)
    return labelled_page(request, "cards/lost.html", card=card, errors=forms.FormErrors())


@router.post("/cards/{card_id}/lost", response_class=HTMLResponse)
async def lost(
    request: Request, card_id: uuid.UUID, user: WebUser, session: SessionDep, issuer: IssuerDep
) -> Response:
    """The card ends (LOST) and a physical one is replaced; a second click finds it ended and says so."""
    try:
        card = await service.find_card(session, user.id, card_id)
        answer = await service.set_block(
            session, issuer, user.id, card_id, BlockRequest(action=BlockAction.BLOCK, reason="LOST")
        )
    except CardNotFound:
        return _not_found(request, user)
    except AppError as error:
        await once.undo(session, error)  # the rollback expires the card: read it again
        card = await service.find_card(session, user.id, card_id)
        return labelled_page(request, "cards/lost.html", error.status, card=card, errors=_errors(error.error))
    return labelled_page(request, "cards/lost_done.html", card=card, replaced=answer.replacement_card_id)


@router.get("/cards/{card_id}/cancel", response_class=HTMLResponse)
async def cancel_confirm(
    request: Request, card_id: uuid.UUID, user: WebUser, session: SessionDep
) -> Response:
    try:
        card = await service.find_card(session, user.id, card_id)
    except CardNotFound:
        return _not_found(request, user)
    return labelled_page(request, "cards/cancel.html", card=card, errors=forms.FormErrors())


@router.post("/cards/{card_id}/cancel", response_class=HTMLResponse)
async def cancel(request: Request, card_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    """A virtual card cancelled for good (it stays listed); a second click finds it cancelled already."""
    try:
        await service.cancel_virtual(session, user.id, card_id)
    except CardNotFound:
        return _not_found(request, user)
    except AppError as error:
        await once.undo(session, error)
        card = await service.find_card(session, user.id, card_id)
        return labelled_page(
            request, "cards/cancel.html", error.status, card=card, errors=_errors(error.error)
        )
    return RedirectResponse(f"/cards#card-{card_id}", status_code=303)


def _new_values(today: date) -> dict[str, str]:
    return {"limit": "", "expires_on": (today + timedelta(days=_DEFAULT_VALID_DAYS)).isoformat()}


def _new_page(
    request: Request, values: dict[str, str], errors: forms.FormErrors, key: str, status: int = 200
) -> Response:
    today = brasilia_day(utcnow())
    return labelled_page(
        request, "cards/new.html", status, values=values, errors=errors, idempotency_key=key, today=today
    )


@router.get("/cards/new", response_class=HTMLResponse)
async def new_card_form(request: Request, user: WebUser) -> Response:
    return _new_page(request, _new_values(brasilia_day(utcnow())), forms.FormErrors(), once.new_key())


def _virtual_request(values: dict[str, str]) -> tuple[VirtualCardRequest | None, forms.FormErrors]:
    errors = forms.FormErrors()
    limit = parse_amount(values["limit"])
    if limit is None:
        errors.add("limit", N_("Enter a limit greater than zero, like 500,00."))
    try:
        last_day = date.fromisoformat(values["expires_on"])
    except ValueError:
        last_day = None
        errors.add("expires_on", N_("Choose a future date, at most your physical card's expiry."))
    if len(values["description"]) > 100:
        errors.add("description", N_("The description can have at most 100 characters."))
    if errors or limit is None or last_day is None:
        return None, errors
    expires_at = day_start(last_day + timedelta(days=1)) - timedelta(microseconds=1)  # its last instant
    data = VirtualCardRequest(limit=limit, expires_at=expires_at, description=values["description"] or None)
    return data, errors


@router.post("/cards/new", response_class=HTMLResponse)
async def new_card(request: Request, user: WebUser, session: SessionDep, issuer: IssuerDep) -> Response:
    """The card's number and CVV in this answer only; a refresh (the same key) shows the card without them."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _NEW_FIELDS}
    key = once.valid_key(form.get("idempotency_key"))
    data, errors = _virtual_request(values)
    if data is None or key is None:
        return _new_page(request, values, errors or _errors("VALIDATION_ERROR"), once.new_key(), 422)
    try:
        created = await once.once(
            request,
            session,
            key,
            once.form_fingerprint(request, values),
            lambda: service.create_virtual(session, issuer, user.id, data),
            status=201,
            stored=lambda answer: {**answer, "number": None, "cvv": None},
        )
    except AppError as error:
        return _new_page(request, values, _errors(error.error, error.details), key, error.status)
    if isinstance(created, once.Replayed):
        if created.status >= 300:
            code = str(created.body.get("error", ""))
            return _new_page(request, values, _errors(code, created.body.get("details")), key, created.status)
        return labelled_page(request, "cards/created.html", card=_created(created.body), shown=False)
    shown = _created(created.model_dump(mode="json", by_alias=True))
    return labelled_page(request, "cards/created.html", card=shown, shown=True)


def _created(answer: dict[str, Any]) -> dict[str, Any]:
    """The new card's answer (or its stored replay, a JSON body) as the page reads it; money as Decimal."""
    return {
        "last_four": answer["lastFourDigits"],
        "limit": Decimal(str(answer["limit"])),
        "expiry_date": answer["expiryDate"],
        "holder_name": answer["holderName"],
        "number": answer.get("number"),
        "cvv": answer.get("cvv"),
    }


@router.get("/cards/{card_id}/reveal", response_class=HTMLResponse)
async def reveal_form(request: Request, card_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    try:
        card = await service.find_card(session, user.id, card_id)
    except CardNotFound:
        return _not_found(request, user)
    return labelled_page(request, "cards/reveal.html", card=card, errors=forms.FormErrors(), sent=None)


@router.post("/cards/{card_id}/reveal/send", response_class=HTMLResponse)
async def send_code(
    request: Request, card_id: uuid.UUID, user: WebUser, session: SessionDep, otp: OtpServiceDep
) -> Response:
    """A code for a customer without an authenticator app, sent to their notifications (`security.otp`)."""
    try:
        card = await service.find_card(session, user.id, card_id)
    except CardNotFound:
        return _not_found(request, user)
    try:
        sent = await otp.send(user.id)
    except AppError as error:
        await once.undo(session, error)
        card = await service.find_card(session, user.id, card_id)
        errors = _errors(error.error)
        return labelled_page(request, "cards/reveal.html", error.status, card=card, errors=errors, sent=None)
    return labelled_page(
        request, "cards/reveal.html", card=card, errors=forms.FormErrors(), sent=sent.expires_at
    )


@router.post("/cards/{card_id}/reveal", response_class=HTMLResponse)
async def reveal(
    request: Request,
    card_id: uuid.UUID,
    user: WebUser,
    session: SessionDep,
    verifier: VerifierDep,
    issuer: IssuerDep,
) -> Response:
    """The number and CVV after a right code; another customer's card is 404 and spends no code."""
    try:
        card = await service.find_card(session, user.id, card_id)
    except CardNotFound:
        return _not_found(request, user)
    form = await request.form()
    try:
        await verifier.verify(user.id, str(form.get("code", "")).strip() or None)
    except AppError as error:
        errors = _errors(error.error)
        return labelled_page(request, "cards/reveal.html", error.status, card=card, errors=errors, sent=None)
    details = await service.reveal(request.app.state.db, issuer.keyring, card)
    return labelled_page(request, "cards/details.html", card=card, details=details)
