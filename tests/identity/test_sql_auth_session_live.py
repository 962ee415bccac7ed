"""`auth_session_live` (laura/identity/sql/auth_session_live.sql), the one-statement routes' session check,
called directly with SQL and held to the session path's own check (`IdentityRepository.principal_row`)."""

from __future__ import annotations

import uuid

from laura.identity.repository import IdentityRepository
from tests.helpers import auth_headers
from tests.sql_support import scalar, session_of


async def _both(app, session_id: uuid.UUID, user_id: uuid.UUID) -> tuple[bool, bool]:
    """(SQL's verdict, Python's verdict) on whether this session of this user is live."""
    db = app.state.db
    in_sql = await scalar(db, "SELECT auth_session_live($1, $2)", session_id, user_id)
    async with db.sessionmaker() as session:
        in_python = await IdentityRepository(session).principal_row(session_id, user_id) is not None
    return in_sql, in_python


async def test_a_session_is_live_until_revoked_or_its_user_deactivated_in_both_checks(app, client) -> None:
    db = app.state.db
    ana, _ = await auth_headers(client)
    bia, _ = await auth_headers(client)
    ana_id, bia_id = uuid.UUID(ana["id"]), uuid.UUID(bia["id"])
    ana_session, bia_session = await session_of(db, ana["id"]), await session_of(db, bia["id"])

    assert await _both(app, ana_session, ana_id) == (True, True)
    assert await _both(app, ana_session, bia_id) == (False, False)
    assert await _both(app, uuid.uuid4(), ana_id) == (False, False)

    await scalar(db, "UPDATE auth_sessions SET revoked_at = now() WHERE id = $1 RETURNING 1", ana_session)
    await scalar(db, "UPDATE users SET is_active = false WHERE id = $1 RETURNING 1", bia_id)
    assert await _both(app, ana_session, ana_id) == (False, False)
    assert await _both(app, bia_session, bia_id) == (False, False)
