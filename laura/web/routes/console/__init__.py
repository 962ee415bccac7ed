"""The operations console (/ops): pages for staff and admins over the same services the admin API uses."""

from __future__ import annotations

from fastapi import APIRouter

from laura.web.routes.console import audit, drivers, finance, fraud, jobs, ledger, overview, rides, support

router = APIRouter(include_in_schema=False)
for module in (overview, drivers, rides, support, ledger, jobs, audit, fraud, finance):
    router.include_router(module.router)
