"""Who may call the mobility routes: drivers and passengers by role (admins pass every role check)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from laura.identity.deps import require_caller_role, require_role
from laura.identity.service import Caller, Principal

DriverUser = Annotated[Principal, Depends(require_role("driver"))]
PassengerUser = Annotated[Principal, Depends(require_role("passenger"))]
DriverCaller = Annotated[Caller, Depends(require_caller_role("driver"))]
"""A driver as the access token says, with no query: for a route whose one statement checks the session."""
