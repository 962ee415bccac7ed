"""The rules' verdicts and the ops review: flags (one per user, rule and local day while open, so a burst
raises one item), suspensions, and the admin's resolve that lifts them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.db import after_commit
from laura.mobility.fraud import geofence
from laura.mobility.fraud.errors import (
    AccountSuspended,
    FlagAlreadyResolved,
    FlagNotFound,
    ImpossibleMovement,
    OutsideServiceArea,
)
from laura.mobility.fraud.metrics import FRAUD_FLAGS, LOCATION_REPORTS_REFUSED, SERVICE_AREA_REFUSALS
from laura.mobility.fraud.models import FlagStatus, FraudFlag, Rule
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.fraud.repository import FraudRepository
from laura.mobility.matching.geo import haversine_m

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    at: datetime


def _count_flag(session: AsyncSession, rule: Rule) -> None:
    async def hook() -> None:
        FRAUD_FLAGS.labels(rule.value).inc()

    after_commit(session, hook)


def ensure_in_service_area(
    policy: FraudPolicy, pickup: tuple[float, float], dropoff: tuple[float, float]
) -> None:
    """422 OUTSIDE_SERVICE_AREA unless both ends are inside (no area configured: anywhere)."""
    if policy.service_area is None:
        return
    outside = [
        name
        for name, (lat, lon) in (("pickup", pickup), ("dropoff", dropoff))
        if not geofence.contains(policy.service_area, lat, lon)
    ]
    if outside:
        SERVICE_AREA_REFUSALS.inc()
        raise OutsideServiceArea(
            details=[{"field": name, "message": "outside the service area"} for name in outside]
        )


async def ensure_not_suspended(session: AsyncSession, user_id: uuid.UUID) -> None:
    if await FraudRepository(session).is_suspended(user_id):
        raise AccountSuspended()


async def raise_flag(
    session: AsyncSession,
    policy: FraudPolicy,
    *,
    user_id: uuid.UUID,
    rule: Rule,
    now: datetime,
    details: dict[str, Any],
    ride_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Open a review item; None when the user already has an open one for this rule today (idempotent)."""
    day = now.astimezone(ZoneInfo(policy.timezone)).date()
    flag_id = await FraudRepository(session).insert_flag(
        user_id=user_id, rule=rule.value, day=day, ride_id=ride_id, details=details
    )
    if flag_id is not None:
        _count_flag(session, rule)
    return flag_id


async def judge_movement(
    session: AsyncSession,
    policy: FraudPolicy,
    *,
    user_id: uuid.UUID,
    last: Position | None,
    new: Position,
    now: datetime,
) -> None:
    """Refuse (422 IMPOSSIBLE_MOVEMENT, counted, kept) a report implying more than the speed limit from the
    last stored one; the Nth refusal in 24 hours flags the driver. Short moves are GPS jitter, not judged;
    a report older than the last one is judged on the time between them just the same."""
    if last is None:
        return
    distance_m = haversine_m(last.lat, last.lon, new.lat, new.lon)
    if distance_m < policy.min_judged_distance_m:
        return
    seconds = abs((new.at - last.at).total_seconds())
    kmh = distance_m / seconds * 3.6 if seconds > 0 else float("inf")
    if kmh <= policy.max_speed_kmh:
        return
    repo = FraudRepository(session)
    await repo.add_signal(user_id, Rule.IMPOSSIBLE_MOVEMENT.value, now)
    LOCATION_REPORTS_REFUSED.labels("impossible_movement").inc()
    refusals = await repo.signals_since(user_id, Rule.IMPOSSIBLE_MOVEMENT.value, now - WINDOW)
    if refusals >= policy.impossible_movements_to_flag:
        await raise_flag(
            session,
            policy,
            user_id=user_id,
            rule=Rule.IMPOSSIBLE_MOVEMENT,
            now=now,
            details={"refusals24h": refusals, "distanceM": round(distance_m), "seconds": seconds},
        )
    implied = "an instant jump" if seconds == 0 else f"{round(kmh)} km/h"
    raise ImpossibleMovement(
        details=[{"field": "lat", "message": f"{round(distance_m)} m from the last position: {implied}"}]
    )


async def cancellation_counted(
    session: AsyncSession,
    policy: FraudPolicy,
    *,
    user_id: uuid.UUID,
    role: str,
    ride_id: uuid.UUID,
    now: datetime,
) -> bool:
    """After a cancellation: past N in 24 hours the user is flagged, past M suspended until reviewed (an
    admin's clearance starts the suspension's count again, so the next cancellation does not re-suspend).
    True when this cancellation suspended the user."""
    repo = FraudRepository(session)
    await repo.add_signal(user_id, Rule.CANCELLATION_ABUSE.value, now)
    count = await repo.signals_since(user_id, Rule.CANCELLATION_ABUSE.value, now - WINDOW)
    details = {"cancellations24h": count, "role": role}
    if count > policy.cancellations_to_flag:
        await raise_flag(
            session,
            policy,
            user_id=user_id,
            rule=Rule.CANCELLATION_ABUSE,
            now=now,
            details=details,
            ride_id=ride_id,
        )
    cleared = await repo.last_resolved(user_id, Rule.CANCELLATION_SUSPENSION.value)
    if cleared is not None and cleared > now - WINDOW:
        count = await repo.signals_since(user_id, Rule.CANCELLATION_ABUSE.value, cleared)
    if count <= policy.cancellations_to_suspend or await repo.is_suspended(user_id):
        return False
    rule = Rule.CANCELLATION_SUSPENSION
    flag_id = await raise_flag(
        session, policy, user_id=user_id, rule=rule, now=now, details=details, ride_id=ride_id
    )
    if flag_id is None:  # an open one today already (its suspension was lifted some other way)
        existing = await repo.open_flag(user_id, rule.value, now.astimezone(ZoneInfo(policy.timezone)).date())
        assert existing is not None, "the insert found an open flag"
        flag_id = existing.id
    await repo.suspend(user_id=user_id, flag_id=flag_id, reason=rule.value, now=now)
    return True


async def list_flags(
    session: AsyncSession, *, status: str | None, rule: str | None, offset: int, limit: int
) -> tuple[list[FraudFlag], int]:
    return await FraudRepository(session).flags(status=status, rule=rule, offset=offset, limit=limit)


async def resolve_flag(
    session: AsyncSession, *, flag_id: uuid.UUID, admin_id: uuid.UUID, note: str, now: datetime
) -> FraudFlag:
    """Close a review item (409 if closed already); a suspension it caused is lifted. Audited."""
    repo = FraudRepository(session)
    flag = await repo.lock_flag(flag_id)
    if flag is None:
        raise FlagNotFound()
    if flag.status != FlagStatus.OPEN:
        raise FlagAlreadyResolved()
    flag.status = FlagStatus.RESOLVED.value
    flag.resolved_at = now
    flag.resolved_by = admin_id
    flag.resolution_note = note
    lifted = await repo.lift_suspensions_of(flag.id)
    await session.flush()
    audit.record(
        session,
        action="fraud.flag.resolved",
        resource_type="fraud_flag",
        resource_id=str(flag.id),
        old={"status": "OPEN"},
        new={
            "status": "RESOLVED",
            "suspensionLifted": lifted > 0,
            "subjectUserId": str(flag.subject_user_id),
        },
        actor_id=admin_id,
    )
    return flag
