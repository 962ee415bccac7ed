"""CSRF protection for every form: asgi-csrf's signed double-submit token.

asgi-csrf (a maintained ASGI middleware) sets a signed `csrftoken` cookie the first time a page asks for
the token, and refuses any unsafe method whose form field `csrftoken` (or `X-CSRFToken` header, which htmx
can send) does not match it. It is applied to the web app's paths only: the JSON API authenticates with a
bearer token, which a cross-site form cannot send. Its refusal is a readable 403 page. It is built on the
first request, when the app's signing key (derived from the master key in the lifespan) is known, once
with a Secure cookie for HTTPS requests and once without."""

from __future__ import annotations

from typing import Any

from asgi_csrf import asgi_csrf
from starlette.types import ASGIApp, Receive, Scope, Send

from laura.web import i18n
from laura.web.csrf_multipart import multipart_boundary, with_form_token
from laura.web.render import environment
from laura.web.session import is_https

WEB_PREFIXES = (
    "/login",
    "/register",
    "/logout",
    "/transfers/",
    "/pix/",
    "/ted",
    "/static/",
    "/cards",
    "/budgets",
    "/analytics",
    "/support",
    "/ops",
    "/statement",
    "/scheduled",
    "/boletos",
    "/rider/",
    "/driver/",
)
"""Every page's path starts with one of these, one per line, an area's next to the others'."""
WEB_PATHS = frozenset(
    {
        "/",
        "/login",
        "/register",
        "/logout",
        "/transfers/p2p",
        "/transfers/p2p/confirm",
        "/boletos",
        "/boletos/pay",
    }
)
"""Refused without a token even when the request has no cookie at all (asgi-csrf lets such a request
through by default: a form on another site could still post to /login without one)."""


def is_web_path(path: str) -> bool:
    return path == "/" or path.startswith(WEB_PREFIXES)


def _locale(scope: Scope) -> str:
    cookie = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == i18n.LANG_COOKIE:
            return i18n.known_locale(value) or i18n.DEFAULT_LOCALE
    return i18n.DEFAULT_LOCALE


async def _refused(scope: Scope, send: Send, _reason: Any) -> None:
    locale = _locale(scope)
    html = (
        environment(locale)
        .get_template("csrf_failed.html")
        .render(
            locale=locale,
            html_lang=i18n.html_lang(locale),
            csrf_token="",
            path=scope.get("path", "/"),
            user=None,
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": html.encode()})


class WebCsrf:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._guards: dict[bool, ASGIApp] = {}

    def _guard(self, scope: Scope) -> ASGIApp:
        secure = is_https(scope)
        guard = self._guards.get(secure)
        if guard is None:
            guard = asgi_csrf(
                self.app,
                signing_secret=scope["app"].state.web_secret,
                always_protect=WEB_PATHS,
                skip_if_scope=lambda s: not is_web_path(s["path"]),
                cookie_secure=secure,
                send_csrf_failed=_refused,
            )
            self._guards[secure] = guard
        return guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        boundary = multipart_boundary(scope)
        if boundary is not None:  # asgi-csrf cannot read a multipart form: see laura.web.csrf_multipart
            checked = await with_form_token(scope, receive, boundary, scope["app"].state.web_secret)
            if checked is None:
                await _refused(scope, send, None)
                return
            scope, receive = checked
        await self._guard(scope)(scope, receive, send)
