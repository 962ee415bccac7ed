"""Every query identity makes."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import fetchrow
from laura.core.reader import read_one
from laura.identity.models import AuthSession, RefreshToken, SigningKeyRow, User
from laura.identity.schemas import UserOut

_USER_OUT = f"SELECT {', '.join(UserOut.model_fields)} FROM users WHERE id = $1"


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def user_by_id(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def user_out(self, user_id: uuid.UUID) -> UserOut | None:
        """The user as the API shows them, read through the driver (`core.reader`)."""
        return await read_one(self.session, UserOut, _USER_OUT, user_id)

    async def email_taken(self, email: str) -> bool:
        return await self.session.scalar(select(User.id).where(User.email == email)) is not None

    async def cpf_taken(self, cpf: str) -> bool:
        return await self.session.scalar(select(User.id).where(User.cpf == cpf)) is not None

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def principal_row(self, session_id: uuid.UUID, user_id: uuid.UUID) -> asyncpg.Record | None:
        """One round trip per authenticated request: the session is live and the user is active."""
        return await fetchrow(
            self.session,
            "SELECT u.id, u.role, u.email, u.name FROM users u JOIN auth_sessions s ON s.user_id = u.id"
            " WHERE s.id = $1 AND u.id = $2 AND s.revoked_at IS NULL AND u.is_active",
            session_id,
            user_id,
        )

    async def refresh_token_for_update(self, token_hash: str) -> tuple[RefreshToken, AuthSession] | None:
        row = (
            await self.session.execute(
                select(RefreshToken, AuthSession)
                .join(AuthSession, AuthSession.id == RefreshToken.session_id)
                .where(RefreshToken.token_hash == token_hash)
                .with_for_update(of=RefreshToken)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def revoke_session(self, session_id: uuid.UUID, reason: str, now: datetime) -> None:
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )

    async def signing_keys(self) -> list[SigningKeyRow]:
        return list(
            await self.session.scalars(
                select(SigningKeyRow)
                .where(SigningKeyRow.retired_at.is_(None))
                .order_by(SigningKeyRow.created_at)
            )
        )
