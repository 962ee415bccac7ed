"""Put the web app into the API's FastAPI app: its pages, its static files, its CSRF check and the
redirect of a signed-out visitor to /login. The API's routes are unchanged."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from laura.web.csrf import WebCsrf
from laura.web.routes.analytics import router as analytics_router
from laura.web.routes.auth import router as auth_router
from laura.web.routes.boletos import router as boletos_router
from laura.web.routes.budgets import router as budgets_router
from laura.web.routes.cards import router as cards_router
from laura.web.routes.console import router as console_router
from laura.web.routes.console.access import ConsoleNotFound, not_found_page
from laura.web.routes.driver import router as driver_router
from laura.web.routes.driver_ride import router as driver_ride_router
from laura.web.routes.earnings import router as earnings_router
from laura.web.routes.home import router as home_router
from laura.web.routes.pix_keys import router as pix_keys_router
from laura.web.routes.pix_receive import router as pix_receive_router
from laura.web.routes.pix_send import router as pix_send_router
from laura.web.routes.rider import router as rider_router
from laura.web.routes.rider_ride import router as rider_ride_router
from laura.web.routes.scheduled import router as scheduled_router
from laura.web.routes.statement import router as statement_router
from laura.web.routes.support import router as support_router
from laura.web.routes.ted import router as ted_router
from laura.web.routes.transfers import router as transfers_router
from laura.web.session import LoginRequired

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/"


async def _to_login(request: Request, _exc: Exception) -> Response:
    """A page: redirected to /login. An htmx fragment (whose swap would put the login page inside the page):
    `HX-Redirect`, which sends the whole window there, back to the page it was on."""
    fragment = request.headers.get("hx-request") == "true"
    target = request.headers.get("hx-current-url", "") if fragment else ""
    if not target.startswith(str(request.base_url)):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = "/" + target.removeprefix(str(request.base_url))
    suffix = "" if target == "/" else f"?next={quote(target, safe='')}"
    if fragment:
        return Response(status_code=204, headers={"HX-Redirect": f"/login{suffix}"})
    return RedirectResponse(f"/login{suffix}", status_code=303)


def install_routes(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(ConsoleNotFound, not_found_page)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (
        auth_router,
        home_router,
        transfers_router,
        pix_send_router,
        pix_receive_router,
        pix_keys_router,
        ted_router,
        statement_router,
        cards_router,
        console_router,
        scheduled_router,
        boletos_router,
        budgets_router,
        analytics_router,
        rider_router,
        rider_ride_router,
        driver_router,
        driver_ride_router,
        earnings_router,
        support_router,
    ):
        app.include_router(router)


def install_middleware(app: FastAPI) -> None:
    """Inside the security headers (the 403 page has them too), outside the request context."""
    app.add_middleware(WebCsrf)
