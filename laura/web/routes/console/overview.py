"""The console's front page: the sections the signed-in role may open (the support desk for staff, every
section for admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from laura.web.routes.console.access import ConsoleStaff
from laura.web.routes.console.sections import console_page, sections_for

router = APIRouter(include_in_schema=False)


@router.get("/ops", response_class=HTMLResponse)
async def overview(request: Request, user: ConsoleStaff) -> Response:
    return console_page(request, "console/index.html", sections=sections_for(user.role))
