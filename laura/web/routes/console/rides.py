"""Rides for admins: the figures of `GET /admin/rides/stats` (today, this week, this month in the operation's
time zone) and every ride not finished yet, newest first. The live list is an htmx fragment that reloads
itself every few seconds; without JavaScript the page shows it as of its loading."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from laura.core.db import SessionDep
from laura.mobility.rides import lifecycle, queries
from laura.mobility.rides.schemas import PeriodStats
from laura.web.routes.console.access import ConsoleAdmin
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)
LIVE_LIMIT = 50


async def _live(session: SessionDep) -> list:
    return [view.out() for view in await queries.live_rides(session, limit=LIVE_LIMIT)]


@router.get("/ops/rides", response_class=HTMLResponse)
async def rides(request: Request, admin: ConsoleAdmin, session: SessionDep) -> Response:
    settings = request.app.state.settings
    now = lifecycle.utcnow()
    periods = await queries.ride_stats(session, timezone=settings.mobility_timezone, now=now)
    stats = {name: PeriodStats.model_validate(figures) for name, figures in periods.items()}
    return console_page(request, "console/rides.html", stats=stats, live=await _live(session), now=now)


@router.get("/ops/rides/live", response_class=HTMLResponse)
async def live(request: Request, admin: ConsoleAdmin, session: SessionDep) -> Response:
    """The live list alone, for htmx to swap in."""
    return console_page(
        request, "console/_live_rides.html", live=await _live(session), now=lifecycle.utcnow()
    )
