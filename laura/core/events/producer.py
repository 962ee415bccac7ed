"""`publish(...)`: a domain event joins the caller's transaction and goes out only if that commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import after_commit, before_commit
from laura.core.events import outbox
from laura.core.events.event import jsonable
from laura.core.events.relay import wake_local

_PENDING = "outbox_pending"


async def _wake() -> None:
    wake_local()


async def publish(
    session: AsyncSession,
    type: str,
    data: dict[str, Any],
    *,
    user_ids: Iterable[uuid.UUID | str] = (),
    roles: Iterable[str] = (),
) -> None:
    """Add an event to the caller's transaction: it is written to the outbox with the commit (one INSERT
    for all of the transaction's events, in order) and goes out only if that commit succeeds.

    Recipients are users by id and/or whole roles. Once the transaction commits the local relay is woken;
    if it does not lead, it wakes the leader (see `relay`).
    """
    if not type or len(type) > 100:
        raise ValueError("event type must be 1 to 100 characters")
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        async def write() -> None:
            outbox.insert_at_commit(session, session.info.pop(_PENDING, []))

        before_commit(session, write)
        after_commit(session, _wake)
    pending.append(
        (
            type,
            jsonable(data),
            [uuid.UUID(str(user_id)) for user_id in user_ids],
            list(roles),
            datetime.now(UTC),
        )
    )
