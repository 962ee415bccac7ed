"""Sign in, sign up and sign out: `IdentityService` as `/auth/login` and `/auth/register` use it, with the
session it opens kept in the web session cookie."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from laura.core.errors import AppError
from laura.identity.deps import IdentityServiceDep
from laura.identity.schemas import LoginRequest, RegisterRequest
from laura.identity.service import caller_from_token
from laura.web import forms, session
from laura.web.render import page
from laura.web.session import MaybeWebUser, WebUser

router = APIRouter(include_in_schema=False)
_REGISTER_FIELDS = ("name", "email", "password", "cpf", "phone", "user_type")
_WEB_ROLES = ("customer", "passenger", "driver")
"""The roles the web sign-up offers: `/register?as=passenger` and `?as=driver` open the same form."""


def _next_path(value: object) -> str:
    """Only a path of this site (never `//host` or a URL): an open redirect is refused."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"


async def _signed_in(request: Request, service: IdentityServiceDep, data: LoginRequest, to: str) -> Response:
    pair = await service.login(data)
    caller = caller_from_token(request.app.state.signer, pair.access_token)
    response = RedirectResponse(to, status_code=303)
    session.start(request, response, caller.session_id, caller.id)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, user: MaybeWebUser) -> Response:
    if user is not None:
        return RedirectResponse("/", status_code=303)
    return page(
        request,
        "login.html",
        values={},
        errors=forms.FormErrors(),
        next=_next_path(request.query_params.get("next")),
    )


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, service: IdentityServiceDep) -> Response:
    form = await request.form()
    values = {"email": str(form.get("email", ""))}
    to = _next_path(form.get("next"))
    try:
        data = LoginRequest(email=values["email"], password=str(form.get("password", "")))
        return await _signed_in(request, service, data, to)
    except ValidationError as error:
        errors, status = forms.from_validation(error, ("email", "password")), 422
    except AppError as error:
        errors, status = forms.from_app_error(error), error.status
    return page(request, "login.html", status_code=status, values=values, errors=errors, next=to)


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request, user: MaybeWebUser) -> Response:
    if user is not None:
        return RedirectResponse("/", status_code=303)
    role = request.query_params.get("as", "customer")
    values = {"user_type": role if role in _WEB_ROLES else "customer"}
    return page(request, "register.html", values=values, errors=forms.FormErrors())


@router.post("/register", response_class=HTMLResponse)
async def register_submit(request: Request, service: IdentityServiceDep) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _REGISTER_FIELDS if name != "password"}
    password = str(form.get("password", ""))
    values["user_type"] = values["user_type"] if values["user_type"] in _WEB_ROLES else "customer"
    try:
        data = RegisterRequest(
            name=values["name"],
            email=values["email"],
            password=password,
            cpf=values["cpf"] or None,
            phone=values["phone"] or None,
            user_type=values["user_type"],
        )
        await service.register(data)
        return await _signed_in(request, service, LoginRequest(email=data.email, password=password), "/")
    except ValidationError as error:
        errors, status = forms.from_validation(error, _REGISTER_FIELDS), 422
    except AppError as error:
        errors, status = forms.from_app_error(error), error.status
    return page(request, "register.html", status_code=status, values=values, errors=errors)


@router.post("/logout")
async def logout(user: WebUser, service: IdentityServiceDep) -> Response:
    """Ends the session itself (its refresh tokens too), not only the cookie."""
    await service.logout(user)
    response = RedirectResponse("/login", status_code=303)
    session.end(response)
    return response
