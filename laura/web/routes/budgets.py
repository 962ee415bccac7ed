"""Budgets: the list with each budget's progress coloured by its status, and forms to create, change and
delete one; they call `budgets.service` as `/api/budgets` does (a new budget's form carries an
Idempotency-Key, so a double click makes one). A refusal reads next to its field: an amount, thresholds
that are not ascending, a category and period already budgeted."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.budgets import service
from laura.bank.budgets.errors import BudgetNotFound
from laura.bank.budgets.schemas import BudgetOut, BudgetPatch, BudgetRequest
from laura.bank.budgets.status import DEFAULT_THRESHOLDS
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.models import utcnow
from laura.identity.service import Principal
from laura.web import forms, once
from laura.web.bank_labels import labelled_page
from laura.web.i18n import N_
from laura.web.session import WebUser
from laura.web.transfer_limits import parse_amount

router = APIRouter(include_in_schema=False)
_FIELDS = ("category", "period", "limit", "alert_thresholds")
_FIELD_OF = {
    "alertThresholds": "alert_thresholds",
    "limit": "limit",
    "category": "category",
    "period": "period",
}
_MESSAGES = {
    "category": N_("Choose a category."),
    "period": N_("Choose weekly, monthly or yearly."),
    "limit": N_("Enter a limit greater than zero, like 500,00."),
    "alert_thresholds": N_("Enter one to five percentages from 1 to 100, ascending, like 50, 75, 90."),
}
_ALREADY = N_("You already have a budget for this category and period. Change that one instead.")
_REUSED = N_("This form was already sent. Open it again to start over.")


def _thresholds(text: str) -> list[int] | str:
    """`50, 75, 90` as numbers; anything that is not a list of whole numbers stays text for the model to
    refuse."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    return [int(part) for part in parts] if parts and all(p.isdigit() for p in parts) else text


def _invalid(error: ValidationError) -> forms.FormErrors:
    errors = forms.FormErrors()
    for item in error.errors():
        name = _FIELD_OF.get(str(item["loc"][0]) if item["loc"] else "", "alert_thresholds")
        errors.add(name, _MESSAGES[name])
    return errors


def _refused(code: str) -> forms.FormErrors:
    errors = forms.FormErrors()
    if code == "BUDGET_ALREADY_EXISTS":
        errors.add("category", _ALREADY)
    elif code == "IDEMPOTENCY_KEY_REUSED":
        errors.add(forms.GENERAL, _REUSED)
    else:
        return forms.from_code(code)
    return errors


def _form(
    request: Request, values: dict[str, str], errors: forms.FormErrors, status: int = 200, **ctx: Any
) -> Response:
    return labelled_page(request, "budgets/form.html", status, values=values, errors=errors, **ctx)


@router.get("/budgets", response_class=HTMLResponse)
async def budgets_page(request: Request, user: WebUser, session: SessionDep) -> Response:
    listed = await service.list_budgets(session, user.id, utcnow())
    return labelled_page(request, "budgets/list.html", budgets=listed.data)


@router.get("/budgets/new", response_class=HTMLResponse)
async def new_form(request: Request, user: WebUser) -> Response:
    values = {"period": "MONTHLY", "alert_thresholds": ", ".join(map(str, DEFAULT_THRESHOLDS))}
    return _form(request, values, forms.FormErrors(), idempotency_key=once.new_key(), budget=None)


@router.post("/budgets/new", response_class=HTMLResponse)
async def create(request: Request, user: WebUser, session: SessionDep) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    key = once.valid_key(form.get("idempotency_key")) or once.new_key()
    limit = parse_amount(values["limit"])
    try:
        data = BudgetRequest.model_validate(
            {
                "category": values["category"],
                "period": values["period"],
                "limit": limit if limit is not None else "",
                "alert_thresholds": _thresholds(values["alert_thresholds"]),
            }
        )
    except ValidationError as error:
        return _form(request, values, _invalid(error), 422, idempotency_key=key, budget=None)
    try:
        created = await once.once(
            request,
            session,
            key,
            once.form_fingerprint(request, values),
            lambda: service.create(session, user.id, data, utcnow()),
            status=201,
        )
    except AppError as error:
        return _form(request, values, _refused(error.error), error.status, idempotency_key=key, budget=None)
    if isinstance(created, once.Replayed) and created.status >= 300:
        errors = _refused(str(created.body.get("error", "")))
        return _form(request, values, errors, created.status, idempotency_key=key, budget=None)
    return RedirectResponse("/budgets", status_code=303)


async def _owned(session: AsyncSession, user: Principal, budget_id: uuid.UUID) -> BudgetOut:
    return await service.get(session, user.id, budget_id, utcnow())


@router.get("/budgets/{budget_id}/edit", response_class=HTMLResponse)
async def edit_form(request: Request, budget_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    try:
        budget = await _owned(session, user, budget_id)
    except BudgetNotFound:
        return labelled_page(request, "not_found.html", status_code=404)
    values = {
        "limit": f"{budget.limit:.2f}".replace(".", ","),
        "alert_thresholds": ", ".join(map(str, budget.alert_thresholds)),
    }
    return _form(request, values, forms.FormErrors(), budget=budget)


@router.post("/budgets/{budget_id}/edit", response_class=HTMLResponse)
async def edit(request: Request, budget_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    """The limit and the thresholds change; the category and the period are the budget's identity."""
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ("limit", "alert_thresholds")}
    try:
        budget = await _owned(session, user, budget_id)
    except BudgetNotFound:
        return labelled_page(request, "not_found.html", status_code=404)
    limit = parse_amount(values["limit"])
    try:
        data = BudgetPatch.model_validate(
            {
                "limit": limit if limit is not None else "",
                "alert_thresholds": _thresholds(values["alert_thresholds"]),
            }
        )
        await service.update(session, user.id, budget_id, data, utcnow())
    except ValidationError as error:
        return _form(request, values, _invalid(error), 422, budget=budget)
    except AppError as error:
        await once.undo(session, error)
        return _form(
            request,
            values,
            _refused(error.error),
            error.status,
            budget=await _owned(session, user, budget_id),
        )
    return RedirectResponse("/budgets", status_code=303)


@router.get("/budgets/{budget_id}/delete", response_class=HTMLResponse)
async def delete_confirm(
    request: Request, budget_id: uuid.UUID, user: WebUser, session: SessionDep
) -> Response:
    try:
        budget = await _owned(session, user, budget_id)
    except BudgetNotFound:
        return labelled_page(request, "not_found.html", status_code=404)
    return labelled_page(request, "budgets/delete.html", budget=budget)


@router.post("/budgets/{budget_id}/delete")
async def delete(request: Request, budget_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    """Soft, as in the API: its alerts stay on record; a budget that is gone (or another's) is 404."""
    try:
        await service.delete(session, user.id, budget_id, utcnow())
    except BudgetNotFound as error:
        await once.undo(session, error)
        return labelled_page(request, "not_found.html", status_code=404)
    return RedirectResponse("/budgets", status_code=303)
