"""Staff may read the files attached to tickets (they see every ticket): support's rule, registered with
files at app start (files imports nothing of support)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.files.hooks import staff_may_read
from laura.bank.support.repository import SupportRepository


@staff_may_read
async def attached_to_a_ticket(session: AsyncSession, file_id: uuid.UUID) -> bool:
    return await SupportRepository(session).file_attached(file_id)
