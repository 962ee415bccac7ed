"""Jinja2 pages: one environment per language (each with its catalogue installed, so two requests in
different languages never share a `gettext`), the layout's common context, and the language cookie."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from laura.web import i18n
from laura.web.labels import entry_kind, status_label
from laura.web.session import is_https

TEMPLATES = Path(__file__).parent / "templates"
_LANG_COOKIE_SECONDS = 365 * 24 * 3600


@cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda amount: i18n.money(amount, locale)
    env.filters["when"] = lambda moment: i18n.when(moment, locale)
    env.filters["day"] = lambda day: i18n.day(day, locale)
    env.filters["kind"] = entry_kind
    env.filters["status"] = status_label
    return env


def page_locale(request: Request) -> str:
    """`?lang=` wins (and is remembered in a cookie), then the cookie, then pt-BR."""
    return (
        i18n.known_locale(request.query_params.get("lang"))
        or i18n.known_locale(request.cookies.get(i18n.LANG_COOKIE))
        or i18n.DEFAULT_LOCALE
    )


def gettext(request: Request, message: str) -> str:
    """A text of Python code (an error, a flash) in the page's language."""
    return i18n.translations(page_locale(request)).gettext(message)


def csrf_token(request: Request) -> str:
    """The token every form carries in its hidden `csrftoken` field (asgi-csrf's, see laura.web.csrf)."""
    get = request.scope.get("csrftoken")
    return get() if get else ""


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = page_locale(request)
    context.setdefault("user", getattr(request.state, "web_user", None))
    html = (
        environment(locale)
        .get_template(template)
        .render(
            request=request,
            locale=locale,
            html_lang=i18n.html_lang(locale),
            csrf_token=csrf_token(request),
            path=request.url.path,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    chosen = i18n.known_locale(request.query_params.get("lang"))
    if chosen:
        response.set_cookie(
            i18n.LANG_COOKIE,
            chosen,
            max_age=_LANG_COOKIE_SECONDS,
            httponly=True,
            samesite="lax",
            secure=is_https(request.scope),
        )
    return response
