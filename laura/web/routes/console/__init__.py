"""The operations console (/ops): pages for staff and admins over the same services the admin API uses."""

from __future__ import annotations

from fastapi import APIRouter

from laura.web.routes.console import drivers, ledger, overview

router = APIRouter(include_in_schema=False)
for module in (overview, drivers, ledger):
    router.include_router(module.router)
