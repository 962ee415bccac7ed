"""`publish(...)`: a domain event joins the caller's transaction and goes out only if that commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit
from laura.core.events import outbox
from laura.core.events.event import jsonable
from laura.core.events.relay import wake_local


async def _wake() -> None:
    wake_local()


async def publish(
    session: AsyncSession,
    type: str,
    data: dict[str, Any],
    *,
    user_ids: Iterable[uuid.UUID | str] = (),
    roles: Iterable[str] = (),
) -> int:
    """Write an event to the outbox in the caller's transaction; returns its id.

    Recipients are users by id and/or whole roles. Once the transaction commits the relay is woken: the
    local one directly, the leader in another process by the NOTIFY of the outbox's insert trigger.
    """
    if not type or len(type) > 100:
        raise ValueError("event type must be 1 to 100 characters")
    event_id = await outbox.insert_event(
        session,
        type=type,
        data=jsonable(data),
        user_ids=[uuid.UUID(str(user_id)) for user_id in user_ids],
        roles=list(roles),
    )
    after_commit(session, _wake)
    return event_id
