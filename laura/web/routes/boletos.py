"""Boletos: paste or type the line, see what it says, pay now or on a chosen day, and the receipt.

Reading the slip is `bills.service.validate` and paying it is `bills.service.pay`, exactly as
`POST /api/bills/validate` and `POST /api/bills/pay` do. Nothing is paid on the first step; the
confirmation carries an Idempotency-Key made when it was rendered, and paying runs under it
(`laura.web.once`, the API's protocol), so a double click or a refresh pays once and shows the same
receipt. A refusal (a bad line, a slip past its limit, a short balance) is a sentence next to its field."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.bank.accounts.deps import BalanceCacheDep
from laura.bank.bills import service as bills
from laura.bank.bills.errors import BillPaymentNotFound
from laura.bank.bills.receipt import receipt_pdf
from laura.bank.bills.schemas import PaymentOut, PayRequest, ValidateOut
from laura.bank.transfers.calendar import BRASILIA
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.models import utcnow
from laura.web import boleto_form, forms, once
from laura.web.render import page
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
_RECENT = 10


def _today() -> date:
    return utcnow().astimezone(BRASILIA).date()


def _entry_page(request: Request, values: dict[str, str], errors: forms.FormErrors, status: int) -> Response:
    return page(request, "boletos.html", status_code=status, values=values, errors=errors, payments=[])


def _confirmation(
    request: Request, bill: ValidateOut, values: dict[str, str], errors: forms.FormErrors, status: int = 200
) -> Response:
    """The decoded slip and the pay form, under a new Idempotency-Key (a refused key keeps its refusal)."""
    return page(
        request,
        "boleto_confirm.html",
        status_code=status,
        bill=bill,
        values=values,
        errors=errors,
        today=_today(),
        idempotency_key=once.new_key(),
        pretty_line=boleto_form.pretty_line,
    )


@router.get("/boletos", response_class=HTMLResponse)
async def boletos(request: Request, user: WebUser, session: SessionDep) -> Response:
    payments, _ = await bills.list_payments(session, user.id, offset=0, limit=_RECENT)
    return page(request, "boletos.html", values={}, errors=forms.FormErrors(), payments=payments)


@router.post("/boletos", response_class=HTMLResponse)
async def decode(request: Request, user: WebUser, session: SessionDep) -> Response:
    """Step one: read the slip (nothing is paid); a slip past its payment limit is refused here already."""
    form = await request.form()
    values = {"barcode": str(form.get("barcode", "")).strip()[:80]}
    errors = forms.FormErrors()
    if not values["barcode"]:
        errors.add("barcode", boleto_form.EMPTY_LINE)
        return _entry_page(request, values, errors, 422)
    try:
        bill = await bills.validate(session, values["barcode"], None)
    except AppError as error:
        return _entry_page(request, values, boleto_form.refusal(error.error, error.details), error.status)
    if bill.payment_limit is not None and bill.payment_limit < _today():
        errors.add("barcode", boleto_form.PAST_LIMIT)
        return _entry_page(request, values, errors, 402)
    suggested = bill.due_date.isoformat() if bill.due_date and bill.due_date > _today() else ""
    values.update(
        barcode=bill.digitable_line,
        amount=str(bill.amount) if bill.amount is not None else "",
        when=boleto_form.NOW,
        payment_date=suggested,
    )
    return _confirmation(request, bill, values, forms.FormErrors())


@router.post("/boletos/pay", response_class=HTMLResponse)
async def pay(request: Request, user: WebUser, session: SessionDep, cache: BalanceCacheDep) -> Response:
    """Step two: pay now or schedule, once per Idempotency-Key."""
    form = await request.form()
    sent = boleto_form.read(form)
    try:
        bill = await bills.validate(session, sent.values["barcode"], None)
    except AppError as error:
        return _entry_page(
            request, sent.values, boleto_form.refusal(error.error, error.details), error.status
        )
    key = once.valid_key(form.get("idempotency_key", ""))
    if sent.amount is None and not sent.errors:
        sent.errors.add("amount", boleto_form.ENTER_AMOUNT)
    if sent.errors or sent.amount is None or key is None:
        return _confirmation(request, bill, sent.values, sent.errors or forms.from_code(""), 422)
    try:
        data = PayRequest(barcode=bill.barcode, amount=sent.amount, payment_date=sent.payment_date)
    except ValidationError:
        errors = boleto_form.refusal("VALIDATION_ERROR", [{"field": "amount"}])
        return _confirmation(request, bill, sent.values, errors, 422)

    async def pay_it() -> PaymentOut:
        horizon = request.app.state.settings.schedule_max_days
        payment = await bills.pay(session, user_id=user.id, data=data, cache=cache, schedule_max_days=horizon)
        return PaymentOut.model_validate(payment)

    fingerprint = once.form_fingerprint(request, sent.values)
    try:
        answer = await once.once(request, session, key, fingerprint, pay_it, status=201)
    except AppError as error:
        return _confirmation(
            request, bill, sent.values, boleto_form.refusal(error.error, error.details), error.status
        )
    if isinstance(answer, once.Replayed):
        if answer.status < 300 and "id" in answer.body:
            return RedirectResponse(f"/boletos/{answer.body['id']}", status_code=303)
        errors = boleto_form.refusal(str(answer.body.get("error", "")), answer.body.get("details"))
        return _confirmation(request, bill, sent.values, errors, answer.status)
    return RedirectResponse(f"/boletos/{answer.id}", status_code=303)


@router.get("/boletos/{payment_id}", response_class=HTMLResponse)
async def receipt(request: Request, payment_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    """The payer's receipt; anyone else's payment is not found (404), as in the API."""
    try:
        payment = await bills.get_payment(session, user.id, payment_id)
    except BillPaymentNotFound:
        return page(request, "not_found.html", status_code=404)
    return page(request, "boleto_receipt.html", payment=payment, pretty_line=boleto_form.pretty_line)


@router.get("/boletos/{payment_id}/receipt.pdf")
async def receipt_pdf_file(
    request: Request, payment_id: uuid.UUID, user: WebUser, session: SessionDep
) -> Response:
    """The comprovante of `GET /api/bills/payments/{id}/receipt`."""
    try:
        payment = await bills.get_payment(session, user.id, payment_id)
    except BillPaymentNotFound:
        return page(request, "not_found.html", status_code=404)
    return Response(
        receipt_pdf(payment, user.name),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="comprovante-{payment.receipt}.pdf"',
            "Cache-Control": "no-store",
        },
    )
