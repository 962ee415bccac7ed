"""A session for the demo seed's own requests: the one-statement routes it drives (a P2P, a ride's accept)
check that their caller's session is live, as they do for a signed-in person. It is opened for a user,
used, and ended as a logout ends one, so no demo user is left with a session they never opened."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from laura.core.db import Database
from laura.identity.models import AuthSession
from laura.identity.repository import IdentityRepository


@asynccontextmanager
async def signed_in(db: Database, user_id: uuid.UUID) -> AsyncIterator[uuid.UUID]:
    """The id of a live session of `user_id`'s for the block, revoked when it ends."""
    session_id = uuid.uuid4()
    async with db.unit_of_work() as session:
        await IdentityRepository(session).add(
            AuthSession(id=session_id, user_id=user_id, user_agent="laura seed")
        )
    try:
        yield session_id
    finally:
        async with db.unit_of_work() as session:
            await IdentityRepository(session).revoke_session(session_id, "logout", datetime.now(UTC))
