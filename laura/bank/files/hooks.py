"""Who besides a file's owner may read it is another feature's rule: support lets staff read the files
attached to tickets. A feature registers its check here (files imports no feature that uses it)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

StaffCheck = Callable[[AsyncSession, uuid.UUID], Awaitable[bool]]

_staff_checks: list[StaffCheck] = []


def staff_may_read(check: StaffCheck) -> StaffCheck:
    """Register `check(session, file_id)`: True lets staff (and admins) read that file."""
    if check not in _staff_checks:
        _staff_checks.append(check)
    return check


async def staff_allowed(session: AsyncSession, file_id: uuid.UUID) -> bool:
    for check in _staff_checks:
        if await check(session, file_id):
            return True
    return False
