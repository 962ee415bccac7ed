"""Who may open the operations console: the API's own role rules, answered the web's way.

Every console page is behind the roles its API route asks for (`StaffUser` for the support desk,
`AdminUser` for everything else), so the console lets nobody do what the API would refuse them. Anyone
else signed in gets the not-found page (404), never a 403: a customer learns nothing of what /ops holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from laura.identity.service import Principal
from laura.web.render import page
from laura.web.session import WebUser

STAFF_ROLES = ("staff", "admin")


class ConsoleNotFound(Exception):
    """A console page asked for by someone whose role may not see it, or a row that is not there."""


async def not_found_page(request: Request, _exc: Exception) -> Response:
    return page(request, "not_found.html", status_code=404)


async def _staff(user: WebUser) -> Principal:
    if user.role not in STAFF_ROLES:
        raise ConsoleNotFound()
    return user


async def _admin(user: WebUser) -> Principal:
    if user.role != "admin":
        raise ConsoleNotFound()
    return user


ConsoleStaff = Annotated[Principal, Depends(_staff)]
"""Staff or admin (the support desk, the console's front page)."""
ConsoleAdmin = Annotated[Principal, Depends(_admin)]
"""Admins only, as the API's admin routes."""
