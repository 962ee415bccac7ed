"""The driver's money: the balance (available, on hold, payouts on their way), earnings by Brasília day,
week and month, the account's statement, and payouts: asked for once per Idempotency-Key (as
`POST /payouts` with one) and listed. The same services as `/drivers/me/financials` and `/payouts`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.models import utcnow
from laura.core.money import from_cents, to_cents
from laura.identity.service import Principal
from laura.ledger import service as ledger
from laura.ledger.errors import AccountNotFound
from laura.ledger.schemas import StatementRowOut
from laura.mobility.payments.service import driver_payable_code
from laura.mobility.payouts import service as payouts
from laura.mobility.payouts.balance import driver_financials
from laura.mobility.payouts.policy import PayoutPolicy
from laura.mobility.payouts.schemas import PayoutOut
from laura.mobility.people.errors import DriverNotFound
from laura.web import once, ride_errors
from laura.web.forms import FormErrors
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.ride_pages import fingerprint, read_form, wrong_area
from laura.web.session import WebUser
from laura.web.transfer_limits import parse_amount

router = APIRouter(include_in_schema=False)
STATEMENT_ROWS = 10
PAYOUT_ROWS = 20
PAYOUT_STATUS = {
    "PENDING": N_("Waiting to be sent"),
    "PROCESSING": N_("Sending"),
    "COMPLETED": N_("Sent"),
    "FAILED": N_("Failed (the amount is back in your balance)"),
}


async def _earnings_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    try:
        driver = await payouts.visible_driver(session, user, "me")
    except DriverNotFound:
        return RedirectResponse("/driver/signup", status_code=303)
    payout_policy = PayoutPolicy.from_settings(request.app.state.settings)
    figures = await driver_financials(session, driver.id, policy=payout_policy, now=utcnow())
    try:
        page_of = await ledger.entries(
            session, driver_payable_code(driver.id), cursor=None, limit=STATEMENT_ROWS
        )
        entries = [StatementRowOut.of(row) for row in page_of.rows]
    except AccountNotFound:
        entries = []
    rows, _total = await payouts.list_payouts(
        session, user=user, driver_id=None, status=None, since=None, until=None, offset=0, limit=PAYOUT_ROWS
    )
    return page(
        request,
        "rides/driver_earnings.html",
        status_code=status,
        figures=figures,
        cents=from_cents,
        entries=entries,
        payouts=[PayoutOut.model_validate(p) for p in rows],
        minimum=from_cents(payout_policy.min_cents),
        values=values or {},
        errors=errors or FormErrors(),
        idempotency_key=str(uuid.uuid4()),
        requested=request.query_params.get("payout"),
        payout_status=PAYOUT_STATUS,
    )


@router.get("/driver/earnings", response_class=HTMLResponse)
async def earnings(request: Request, user: WebUser, session: SessionDep) -> Response:
    if refused := wrong_area(request, user, "driver"):
        return refused
    return await _earnings_page(request, session, user)


@router.post("/driver/payouts", response_class=HTMLResponse)
async def request_payout(request: Request, user: WebUser, session: SessionDep) -> Response:
    """A payout to the driver's Pix key; a double click or a refresh asks for it once."""
    if refused := wrong_area(request, user, "driver"):
        return refused
    values = await read_form(request)
    amount = parse_amount(values.get("amount", ""))
    key = once.valid_key(values.get("idempotency_key"))
    if amount is None or key is None:
        errors = ride_errors.from_code("VALIDATION_ERROR", [{"field": "amount"}])
        return await _earnings_page(request, session, user, values=values, errors=errors, status=422)

    async def work() -> PayoutOut:
        payout = await payouts.request_payout(
            session,
            user=user,
            amount_cents=to_cents(amount),
            policy=PayoutPolicy.from_settings(request.app.state.settings),
            now=utcnow(),
        )
        return PayoutOut.model_validate(payout)

    try:
        payout = await once.once(request, session, key, fingerprint(request, values), work, status=201)
    except AppError as error:
        errors = ride_errors.from_app_error(error)
        return await _earnings_page(request, session, user, values=values, errors=errors, status=error.status)
    if isinstance(payout, once.Replayed):
        if payout.status < 300 and "id" in payout.body:
            return RedirectResponse(f"/driver/earnings?payout={payout.body['id']}", status_code=303)
        errors = ride_errors.from_answer(payout.body)
        return await _earnings_page(
            request, session, user, values=values, errors=errors, status=payout.status
        )
    return RedirectResponse(f"/driver/earnings?payout={payout.id}", status_code=303)
