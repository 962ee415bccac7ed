"""Every query of one-time codes. Enrolling, confirming and sending run in the request's session; a
verification's attempt and its use of a code run each as one statement of its own (`one_statement`), so a
wrong code is counted even though the request then fails and its session rolls back."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database, execute, fetchval
from laura.core.statement import one_statement
from laura.identity.models import OtpAuthenticator, OtpCode, OtpGuard

_CLAIM_SQL = """
INSERT INTO otp_guards AS g (user_id, failures, locked_until)
VALUES ($1, 1, CASE WHEN 1 >= $2::int THEN now() + $3::interval END)
ON CONFLICT (user_id) DO UPDATE SET
    failures = CASE WHEN g.locked_until <= now() THEN 1 ELSE g.failures + 1 END,
    locked_until = CASE
        WHEN (CASE WHEN g.locked_until <= now() THEN 1 ELSE g.failures + 1 END) >= $2::int THEN now() + $3::interval
    END
WHERE g.locked_until IS NULL OR g.locked_until <= now()
RETURNING failures
"""
"""Count an attempt before its code is checked (a right code resets the count): the row lock of the upsert
orders concurrent attempts, so no more than `max` are ever checked. The attempt that reaches `max` sets the
lock already; a wrong code leaves it, a right one clears it. No row back: the user is locked."""

_RESET = "UPDATE otp_guards SET failures = 0, locked_until = NULL WHERE user_id IN (SELECT user_id FROM used)"

_USE_STEP_SQL = f"""
WITH used AS (
    UPDATE otp_authenticators SET last_used_step = $2
    WHERE user_id = $1 AND confirmed_at IS NOT NULL AND coalesce(last_used_step, -1) < $2
    RETURNING user_id
), reset AS ({_RESET})
SELECT count(*) FROM used
"""
"""Accept a TOTP step once: the step only grows, so of concurrent requests with one code exactly one wins."""

_USE_SENT_SQL = f"""
WITH used AS (
    UPDATE otp_codes SET used_at = now()
    WHERE id = (SELECT id FROM otp_codes WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)
      AND code_hash = $2 AND used_at IS NULL AND expires_at > now()
    RETURNING user_id
), reset AS ({_RESET})
SELECT count(*) FROM used
"""
"""Accept the newest sent code once, before it expires; sending a new code retires the ones before it."""


class GuardRepository:
    """A verification's statements, each its own transaction on the statement pool."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim_attempt(self, user_id: uuid.UUID, *, max_failures: int, lock: timedelta) -> bool:
        return await one_statement(self.db, _CLAIM_SQL, user_id, max_failures, lock) is not None

    async def locked_until(self, user_id: uuid.UUID) -> datetime | None:
        row = await one_statement(self.db, "SELECT locked_until FROM otp_guards WHERE user_id = $1", user_id)
        return row["locked_until"] if row else None

    async def authenticator(self, user_id: uuid.UUID) -> asyncpg.Record | None:
        return await one_statement(
            self.db,
            "SELECT secret_sealed, confirmed_at FROM otp_authenticators WHERE user_id = $1",
            user_id,
        )

    async def use_step(self, user_id: uuid.UUID, step: int) -> bool:
        row = await one_statement(self.db, _USE_STEP_SQL, user_id, step)
        return row is not None and row[0] == 1

    async def use_sent_code(self, user_id: uuid.UUID, code_hash: bytes) -> bool:
        row = await one_statement(self.db, _USE_SENT_SQL, user_id, code_hash)
        return row is not None and row[0] == 1


class OtpRepository:
    """Enrolling, confirming and sending, in the request's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def authenticator(self, user_id: uuid.UUID) -> OtpAuthenticator | None:
        return await self.session.get(OtpAuthenticator, user_id)

    async def replace_pending(self, user_id: uuid.UUID, secret_sealed: bytes) -> bool:
        """Store a new unconfirmed secret (replacing an unconfirmed one); False if one is confirmed."""
        statement = (
            insert(OtpAuthenticator)
            .values(user_id=user_id, secret_sealed=secret_sealed)
            .on_conflict_do_update(
                index_elements=[OtpAuthenticator.user_id],
                set_={"secret_sealed": secret_sealed, "last_used_step": None, "created_at": func.now()},
                where=OtpAuthenticator.confirmed_at.is_(None),
            )
            .returning(OtpAuthenticator.user_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def confirm(self, user_id: uuid.UUID, secret_sealed: bytes, step: int) -> datetime | None:
        """Confirm the pending secret the code was checked against (not one an enrolment put since)."""
        return await self.session.scalar(
            update(OtpAuthenticator)
            .where(
                OtpAuthenticator.user_id == user_id,
                OtpAuthenticator.confirmed_at.is_(None),
                OtpAuthenticator.secret_sealed == secret_sealed,
            )
            .values(confirmed_at=func.now(), last_used_step=step)
            .returning(OtpAuthenticator.confirmed_at)
        )

    async def reset_guard(self, user_id: uuid.UUID) -> None:
        await self.session.execute(
            update(OtpGuard).where(OtpGuard.user_id == user_id).values(failures=0, locked_until=None)
        )

    async def lock_sending(self, user_id: uuid.UUID) -> None:
        """Serialize a user's sends until this transaction ends, so two at once cannot both pass the interval."""
        await execute(
            self.session,
            "SELECT pg_advisory_xact_lock(hashtextextended('otp_send:' || $1::uuid, 0))",
            user_id,
        )

    async def last_sent_at(self, user_id: uuid.UUID) -> datetime | None:
        value: datetime | None = await fetchval(
            self.session, "SELECT max(created_at) FROM otp_codes WHERE user_id = $1", user_id
        )
        return value

    async def add_code(self, code: OtpCode) -> None:
        self.session.add(code)
        await self.session.flush()
