"""The flags, signals and suspensions tables."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.models import uuid7
from laura.identity.models import User
from laura.mobility.fraud.models import HOLDING_RULES, FraudFlag, FraudSignal, MobilitySuspension

_HOLDING = ", ".join(f"'{rule.value}'" for rule in HOLDING_RULES)
_NOT_HOLDING = f"rule NOT IN ({_HOLDING})"
"""The predicates of migration 0032's partial unique indexes, which ON CONFLICT must repeat to use them."""
_PER_RIDE = f"(ride_id, rule) WHERE rule IN ({_HOLDING})"


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
        """The new flag's id, or None when this user already has an open one for the rule that day (for a
        holding rule: when the ride has one for the rule already)."""
        conflict = (
            _PER_RIDE
            if rule in HOLDING_RULES
            else "(subject_user_id, rule, day) WHERE status = 'OPEN' AND " + _NOT_HOLDING
        )
        return await self.session.scalar(
            text(
                "INSERT INTO fraud_flags (id, subject_user_id, rule, day, ride_id, details, status, created_at)"
                " VALUES (:id, :user_id, :rule, :day, :ride_id, CAST(:details AS jsonb), 'OPEN', now())"
                f" ON CONFLICT {conflict} DO NOTHING RETURNING id"
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

    async def flag(self, flag_id: uuid.UUID) -> FraudFlag | None:
        return await self.session.get(FraudFlag, flag_id)

    async def lock_flag(self, flag_id: uuid.UUID) -> FraudFlag | None:
        return await self.session.scalar(
            select(FraudFlag)
            .where(FraudFlag.id == flag_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def lock_holding_flags(self, ride_id: uuid.UUID) -> list[FraudFlag]:
        """The ride's flags of the holding rules, locked in id order (as mobility_fraud_hold_share does)."""
        rows = await self.session.scalars(
            select(FraudFlag)
            .where(FraudFlag.ride_id == ride_id, FraudFlag.rule.in_([r.value for r in HOLDING_RULES]))
            .order_by(FraudFlag.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def flag_counts(
        self, user_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[dict[str, int], dict[str, int]]]:
        """Per user: open flags per rule, and flags resolved as confirmed per rule."""
        found: dict[uuid.UUID, tuple[dict[str, int], dict[str, int]]] = {u: ({}, {}) for u in user_ids}
        result = await self.session.execute(
            select(FraudFlag.subject_user_id, FraudFlag.rule, FraudFlag.status, func.count())
            .where(
                FraudFlag.subject_user_id.in_(user_ids),
                (FraudFlag.status == "OPEN") | (FraudFlag.decision == "confirmed"),
            )
            .group_by(FraudFlag.subject_user_id, FraudFlag.rule, FraudFlag.status)
        )
        for user_id, rule, status, n in result.all():
            found[user_id][0 if status == "OPEN" else 1][rule] = int(n)
        return found

    async def signal_counts(
        self, user_ids: list[uuid.UUID], since: datetime
    ) -> dict[uuid.UUID, dict[str, int]]:
        """Per user: the signals of each rule since `since`."""
        found: dict[uuid.UUID, dict[str, int]] = {u: {} for u in user_ids}
        result = await self.session.execute(
            select(FraudSignal.subject_user_id, FraudSignal.rule, func.count())
            .where(FraudSignal.subject_user_id.in_(user_ids), FraudSignal.created_at > since)
            .group_by(FraudSignal.subject_user_id, FraudSignal.rule)
        )
        for user_id, rule, n in result.all():
            found[user_id][rule] = int(n)
        return found

    async def suspended_among(self, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(MobilitySuspension.user_id).where(MobilitySuspension.user_id.in_(user_ids))
        )
        return set(rows)

    async def user_exists(self, user_id: uuid.UUID) -> bool:
        return await self.session.scalar(select(User.id).where(User.id == user_id)) is not None

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
