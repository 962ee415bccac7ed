"""Who may call the mobility routes: drivers and passengers by role (admins pass every role check)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from laura.identity.deps import require_role
from laura.identity.service import Principal

DriverUser = Annotated[Principal, Depends(require_role("driver"))]
PassengerUser = Annotated[Principal, Depends(require_role("passenger"))]
