"""My Pix keys: the list, registering one (CPF, phone, e-mail, or a random key the bank makes) and deleting
one after a confirmation page. The same `pix_keys.service` functions as `/api/pix-keys`; registering runs
under the form's Idempotency-Key (a double click makes one random key, not two), and someone else's key
is not found (404)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.bank.pix_keys import service
from laura.bank.pix_keys.errors import PixKeyNotFound
from laura.bank.pix_keys.schemas import PixKeyCreate, PixKeyOut
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.idempotency import RequestInProgress
from laura.identity.service import Principal
from laura.web import forms, once, pix_labels
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
KEY_TYPES = ("CPF", "PHONE", "EMAIL", "EVP")
"""What a customer may register (a CNPJ key belongs to a company's account)."""

_ERRORS: dict[str, tuple[str, str]] = {
    "INVALID_PIX_KEY": ("key", N_("This key does not look like the type you chose.")),
    "PIX_KEY_IN_USE": ("key", N_("This key is already registered at an account.")),
    "PIX_KEY_NOT_OWNED": ("key", N_("A CPF or phone key must be your own CPF or phone as in your profile.")),
    "PIX_KEY_LIMIT_REACHED": (
        forms.GENERAL,
        N_("You already have the maximum of 5 Pix keys. Delete one first."),
    ),
    "VALIDATION_ERROR": ("key", N_("Type the key, or choose a random key.")),
}


def _errors(code: str) -> forms.FormErrors:
    errors = forms.FormErrors()
    if code in _ERRORS:
        errors.add(*_ERRORS[code])
        return errors
    return forms.from_code(code)


async def _keys_page(
    request: Request,
    session: SessionDep,
    user: Principal,
    values: dict[str, str],
    errors: forms.FormErrors,
    status: int = 200,
) -> Response:
    keys = [PixKeyOut.model_validate(k) for k in await service.list_keys(session, user.id)]
    return page(
        request,
        "pix/keys.html",
        status_code=status,
        keys=keys,
        key_types=KEY_TYPES,
        key_type=pix_labels.key_type,
        values=values,
        errors=errors,
        idempotency_key=once.new_key(),
    )


@router.get("/pix/keys", response_class=HTMLResponse)
async def keys_page(request: Request, user: WebUser, session: SessionDep) -> Response:
    return await _keys_page(request, session, user, {"type": "EVP"}, forms.FormErrors())


@router.post("/pix/keys", response_class=HTMLResponse)
async def register(request: Request, user: WebUser, session: SessionDep) -> Response:
    form = await request.form()
    values = {"type": str(form.get("type", "")), "key": str(form.get("key", "")).strip()}
    key = once.valid_key(form.get("idempotency_key"))
    try:
        data = PixKeyCreate(
            type=values["type"], key=None if values["type"] == "EVP" else values["key"] or None
        )  # type: ignore[arg-type]
    except ValidationError:
        data = None
    if data is None or key is None:
        return await _keys_page(request, session, user, values, _errors("VALIDATION_ERROR"), 422)
    try:
        done = await once.once(
            request,
            session,
            key,
            once.form_fingerprint(request, values),
            lambda: _register(session, user, data),
            status=201,
        )
    except RequestInProgress:
        return await _keys_page(request, session, user, values, forms.from_code("REQUEST_IN_PROGRESS"), 409)
    except AppError as error:
        return await _keys_page(request, session, user, values, _errors(error.error), error.status)
    if isinstance(done, once.Replayed) and done.status >= 300:
        code = str(done.body.get("error", ""))
        return await _keys_page(request, session, user, values, _errors(code), done.status)
    return RedirectResponse("/pix/keys", status_code=303)


async def _register(session: SessionDep, user: Principal, data: PixKeyCreate) -> PixKeyOut:
    return PixKeyOut.model_validate(await service.register_key(session, user_id=user.id, data=data))


async def _own_key(session: SessionDep, user: Principal, key_id: uuid.UUID) -> PixKeyOut | None:
    found = [k for k in await service.list_keys(session, user.id) if k.id == key_id]
    return PixKeyOut.model_validate(found[0]) if found else None


@router.get("/pix/keys/{key_id}/delete", response_class=HTMLResponse)
async def delete_confirmation(
    request: Request, key_id: uuid.UUID, user: WebUser, session: SessionDep
) -> Response:
    key = await _own_key(session, user, key_id)
    if key is None:
        return page(request, "not_found.html", status_code=404, user=user)
    return page(request, "pix/key_delete.html", key=key, key_type=pix_labels.key_type)


@router.post("/pix/keys/{key_id}/delete", response_class=HTMLResponse)
async def delete(request: Request, key_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    try:
        await service.delete_key(session, user_id=user.id, key_id=key_id)
    except PixKeyNotFound:
        return page(request, "not_found.html", status_code=404, user=user)
    return RedirectResponse("/pix/keys", status_code=303)
