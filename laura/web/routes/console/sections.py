"""The console's sections, each with the roles that may open it (the API's rule for the same data), in the
order the console's menu shows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from laura.web.i18n import N_
from laura.web.render import page


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
        "/ops/ledger", N_("Trial balance"), N_("Every ledger account's balance, and account statements.")
    ),
)


def sections_for(role: str) -> list[Section]:
    return [s for s in SECTIONS if role == "admin" or not s.admin_only]


def console_page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """`render.page` with the console's menu for the signed-in role."""
    user = getattr(request.state, "web_user", None)
    role = user.role if user is not None else ""
    return page(request, template, status_code=status_code, console_sections=sections_for(role), **context)
