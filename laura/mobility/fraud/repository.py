"""The flags, signals and suspensions tables."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.models import uuid7
from laura.mobility.fraud.models import FraudFlag, FraudSignal, MobilitySuspension


class FraudRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_signal(self, user_id: uuid.UUID, rule: str, now: datetime) -> None:
        self.session.add(FraudSignal(id=uuid7(), subject_user_id=user_id, rule=rule, created_at=now))
        await self.session.flush()

    async def signals_since(self, user_id: uuid.UUID, rule: str, since: datetime) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(FraudSignal)
                .where(
                    FraudSignal.subject_user_id == user_id,
                    FraudSignal.rule == rule,
                    FraudSignal.created_at > since,
                )
            )
            or 0
        )

    async def insert_flag(
        self, *, user_id: uuid.UUID, rule: str, day: date, ride_id: uuid.UUID | None, details: dict[str, Any]
    ) -> uuid.UUID | None:
        """The new flag's id, or None when this user already has an open one for the rule that day."""
        return await self.session.scalar(
            text(
                "INSERT INTO fraud_flags (id, subject_user_id, rule, day, ride_id, details, status, created_at)"
                " VALUES (:id, :user_id, :rule, :day, :ride_id, CAST(:details AS jsonb), 'OPEN', now())"
                " ON CONFLICT (subject_user_id, rule, day) WHERE status = 'OPEN' DO NOTHING RETURNING id"
            ),
            {
                "id": uuid7(),
                "user_id": user_id,
                "rule": rule,
                "day": day,
                "ride_id": ride_id,
                "details": _json(details),
            },
        )

    async def suspend(self, *, user_id: uuid.UUID, flag_id: uuid.UUID, reason: str, now: datetime) -> bool:
        """True when the user was not suspended already."""
        created = await self.session.scalar(
            text(
                "INSERT INTO mobility_suspensions (user_id, flag_id, reason, since)"
                " VALUES (:user_id, :flag_id, :reason, :now) ON CONFLICT (user_id) DO NOTHING RETURNING user_id"
            ),
            {"user_id": user_id, "flag_id": flag_id, "reason": reason, "now": now},
        )
        return created is not None

    async def open_flag(self, user_id: uuid.UUID, rule: str, day: date) -> FraudFlag | None:
        return await self.session.scalar(
            select(FraudFlag).where(
                FraudFlag.subject_user_id == user_id,
                FraudFlag.rule == rule,
                FraudFlag.day == day,
                FraudFlag.status == "OPEN",
            )
        )

    async def last_resolved(self, user_id: uuid.UUID, rule: str) -> datetime | None:
        return await self.session.scalar(
            select(func.max(FraudFlag.resolved_at)).where(
                FraudFlag.subject_user_id == user_id, FraudFlag.rule == rule, FraudFlag.status == "RESOLVED"
            )
        )

    async def is_suspended(self, user_id: uuid.UUID) -> bool:
        return await self.session.get(MobilitySuspension, user_id) is not None

    async def lift_suspensions_of(self, flag_id: uuid.UUID) -> int:
        result = await self.session.execute(
            text("DELETE FROM mobility_suspensions WHERE flag_id = :flag_id RETURNING user_id"),
            {"flag_id": flag_id},
        )
        return len(result.all())

    async def lock_flag(self, flag_id: uuid.UUID) -> FraudFlag | None:
        return await self.session.scalar(select(FraudFlag).where(FraudFlag.id == flag_id).with_for_update())

    async def flags(
        self, *, status: str | None, rule: str | None, offset: int, limit: int
    ) -> tuple[list[FraudFlag], int]:
        where = []
        if status is not None:
            where.append(FraudFlag.status == status)
        if rule is not None:
            where.append(FraudFlag.rule == rule)
        total = await self.session.scalar(select(func.count()).select_from(FraudFlag).where(*where))
        rows = await self.session.scalars(
            select(FraudFlag)
            .where(*where)
            .order_by(FraudFlag.created_at.desc(), FraudFlag.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)


def _json(details: dict[str, Any]) -> str:
    return json.dumps(details, default=str)
