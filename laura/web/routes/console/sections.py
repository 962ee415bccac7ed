"""The console's sections, each with the roles that may open it (the API's rule for the same data), in the
order the console's menu shows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from laura.web.i18n import N_
from laura.web.render import page
from laura.web.routes.console.labels import STATES


@dataclass(frozen=True)
class Section:
    href: str
    title: str
    summary: str
    admin_only: bool = True


SECTIONS = (
    Section(
        "/ops/drivers", N_("Drivers to review"), N_("Approve or reject new drivers with their documents.")
    ),
    Section(
        "/ops/rides",
        N_("Rides"),
        N_("Rides in progress, live, and today's, this week's and this month's figures."),
    ),
    Section(
        "/ops/support",
        N_("Support queue"),
        N_("Customers' tickets by deadline: take one, reply, move it along."),
        admin_only=False,
    ),
    Section(
        "/ops/ledger", N_("Trial balance"), N_("Every ledger account's balance, and account statements.")
    ),
    Section("/ops/jobs", N_("Jobs"), N_("Background jobs that ran out of retries, to run again.")),
    Section("/ops/webhooks", N_("Webhooks"), N_("The PSP's webhook deliveries, the refused ones marked.")),
    Section("/ops/audit", N_("Audit log"), N_("Who did what, searchable, and the hash chain verified.")),
    Section("/ops/fraud", N_("Fraud flags"), N_("What the anti-fraud rules flagged, to clear or confirm.")),
    Section(
        "/ops/finance",
        N_("Finance report"),
        N_("Fares, commission, payouts and fees by day, week or month; CSV."),
    ),
)


def sections_for(role: str) -> list[Section]:
    return [s for s in SECTIONS if role == "admin" or not s.admin_only]


def console_page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """`render.page` with the console's menu for the signed-in role."""
    user = getattr(request.state, "web_user", None)
    role = user.role if user is not None else ""
    return page(
        request,
        template,
        status_code=status_code,
        console_sections=sections_for(role),
        states=STATES,
        **context,
    )
