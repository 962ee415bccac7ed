"""The rules at work and the ops review: each rule's facts gathered, its verdict (laura.mobility.fraud.rules)
acted on — refusals, flags (one per user, rule and local day while open, so a burst raises one item; the
holding rules one per ride), suspensions — and the admin's resolve, which lifts a suspension and releases
or confirms a held share. Trust scores (laura.mobility.fraud.trust) are read here for the review."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.db import after_commit
from laura.identity.errors import UserNotFound
from laura.ledger import service as ledger
from laura.mobility.fraud import rules
from laura.mobility.fraud.errors import (
    AccountSuspended,
    FlagAlreadyResolved,
    FlagNotFound,
    ImpossibleMovement,
    OutsideServiceArea,
)
from laura.mobility.fraud.metrics import FRAUD_FLAGS, LOCATION_REPORTS_REFUSED, SERVICE_AREA_REFUSALS
from laura.mobility.fraud.models import HOLDING_RULES, Decision, FlagStatus, FraudFlag, Rule
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.fraud.repository import FraudRepository
from laura.mobility.fraud.rules import PairRide, Position
from laura.mobility.fraud.trust import TrustSignals, trust_score

__all__ = ["CompletedRide", "PairRide", "Position"]

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class CompletedRide:
    """What the completion rules judge, as rides hands it over (fraud sits below rides: no Ride here)."""

    ride_id: uuid.UUID
    driver_user_id: uuid.UUID
    passenger_user_id: uuid.UUID
    fare: Decimal
    estimated_distance_m: int
    final_distance_m: int
    billed_on_trail: bool
    pair_rides: Sequence[PairRide] = field(default_factory=tuple)
    """The passenger's completed rides with this driver in the collusion window, this one included."""


@dataclass(frozen=True)
class UserTrust:
    user_id: uuid.UUID
    score: int
    signals: TrustSignals


def _count_flag(session: AsyncSession, rule: Rule) -> None:
    async def hook() -> None:
        FRAUD_FLAGS.labels(rule.value).inc()

    after_commit(session, hook)


def ensure_in_service_area(
    policy: FraudPolicy, pickup: tuple[float, float], dropoff: tuple[float, float]
) -> None:
    """422 OUTSIDE_SERVICE_AREA unless both ends are inside (no area configured: anywhere)."""
    outside = rules.outside_service_area(policy, pickup, dropoff)
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
    move = rules.impossible_movement(policy, last, new)
    if move is None:
        return
    LOCATION_REPORTS_REFUSED.labels("impossible_movement").inc()
    repo = FraudRepository(session)
    counted = rules.movement_counts(policy, move)
    if counted:
        await repo.add_signal(user_id, Rule.IMPOSSIBLE_MOVEMENT.value, now)
    refusals = await repo.signals_since(user_id, Rule.IMPOSSIBLE_MOVEMENT.value, now - WINDOW)
    if counted and rules.movement_flags(policy, refusals):
        await raise_flag(
            session,
            policy,
            user_id=user_id,
            rule=Rule.IMPOSSIBLE_MOVEMENT,
            now=now,
            details={"refusals24h": refusals, "distanceM": round(move.distance_m), "seconds": move.seconds},
        )
    implied = "an instant jump" if move.seconds == 0 else f"{round(move.kmh)} km/h"
    raise ImpossibleMovement(
        details=[{"field": "lat", "message": f"{round(move.distance_m)} m from the last position: {implied}"}]
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
    if rules.cancellation_flags(policy, count):
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
    if not rules.cancellation_suspends(policy, count) or await repo.is_suspended(user_id):
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


async def ride_completed(
    session: AsyncSession, policy: FraudPolicy, ride: CompletedRide, *, now: datetime
) -> list[Rule]:
    """In the completing transaction: a fare over the maximum or a route far longer than estimated flags the
    driver on this ride (and mobility_fraud_hold_share holds the share once it is paid); the pair's short
    rides reaching the collusion threshold flag both. The rules that fired (a repeat raises no new flag)."""
    fired: list[Rule] = []
    figures = {
        "fare": str(ride.fare),
        "maxFare": str(policy.max_fare),
        "estimatedDistanceM": ride.estimated_distance_m,
        "finalDistanceM": ride.final_distance_m,
    }
    if rules.over_max_fare(policy, ride.fare):
        fired.append(Rule.MAX_FARE)
    if rules.long_route(
        policy, ride.final_distance_m, ride.estimated_distance_m, billed_on_trail=ride.billed_on_trail
    ):
        fired.append(Rule.LONG_ROUTE)
        figures["ratio"] = round(ride.final_distance_m / max(ride.estimated_distance_m, 1), 2)
    for rule in fired:
        await raise_flag(
            session,
            policy,
            user_id=ride.driver_user_id,
            rule=rule,
            now=now,
            details=figures,
            ride_id=ride.ride_id,
        )
    this = PairRide.of(now, ride.estimated_distance_m, ride.final_distance_m)
    paired = rules.collusion(policy, now, this, ride.pair_rides)
    if paired is not None:
        fired.append(Rule.COLLUSION)
        details = {
            "shortRides": paired,
            "windowHours": policy.collusion_window_hours,
            "passengerUserId": str(ride.passenger_user_id),
            "driverUserId": str(ride.driver_user_id),
        }
        for user_id in (ride.passenger_user_id, ride.driver_user_id):
            await raise_flag(
                session,
                policy,
                user_id=user_id,
                rule=Rule.COLLUSION,
                now=now,
                details=details,
                ride_id=ride.ride_id,
            )
    return fired


async def list_flags(
    session: AsyncSession, *, status: str | None, rule: str | None, offset: int, limit: int, now: datetime
) -> tuple[list[tuple[FraudFlag, int]], int]:
    """A page of flags, each with its subject's trust score."""
    flags, total = await FraudRepository(session).flags(status=status, rule=rule, offset=offset, limit=limit)
    scores = await trust_of(session, list({f.subject_user_id for f in flags}), now=now)
    return [(f, scores[f.subject_user_id].score) for f in flags], total


async def get_flag(session: AsyncSession, flag_id: uuid.UUID) -> FraudFlag:
    """One review item, for the console's resolution page; 404 when there is none."""
    flag = await FraudRepository(session).flag(flag_id)
    if flag is None:
        raise FlagNotFound()
    return flag


async def trust_of(
    session: AsyncSession, user_ids: list[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, UserTrust]:
    """The users' trust scores from their flags, last-24-hour signals and suspensions (a few grouped reads)."""
    if not user_ids:
        return {}
    repo = FraudRepository(session)
    flags = await repo.flag_counts(user_ids)
    signals = await repo.signal_counts(user_ids, now - WINDOW)
    suspended = await repo.suspended_among(user_ids)
    found = {}
    for user_id in user_ids:
        opened, confirmed = flags[user_id]
        counted = signals[user_id]
        trust = TrustSignals(
            open_flags=opened,
            confirmed_flags=confirmed,
            refused_movements_24h=counted.get(Rule.IMPOSSIBLE_MOVEMENT.value, 0),
            cancellations_24h=counted.get(Rule.CANCELLATION_ABUSE.value, 0),
            suspended=user_id in suspended,
        )
        found[user_id] = UserTrust(user_id, trust_score(trust), trust)
    return found


async def user_trust(session: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> UserTrust:
    if not await FraudRepository(session).user_exists(user_id):
        raise UserNotFound()
    return (await trust_of(session, [user_id], now=now))[user_id]


async def _settle_hold(session: AsyncSession, flag: FraudFlag, holding: list[FraudFlag]) -> str | None:
    """After resolving a holding rule's flag (the ride's holding flags locked): confirmed posts the held
    share to 2110; cleared releases it once no other flag of the ride is open or confirmed. What was done
    ('posted', 'voided'), or None (no hold: the ride is not paid yet, and the payment will see the flags)."""
    reference = f"fraud-hold:{flag.ride_id}"
    if await ledger.get_transaction(session, reference) is None:
        return None
    if flag.decision == Decision.CONFIRMED.value:
        await ledger.post_hold(session, reference, reference=f"{reference}:confirmed", reason="FRAUD_REVIEW")
        return "posted"
    others = [f for f in holding if f.id != flag.id]
    if any(f.status == FlagStatus.OPEN.value or f.decision == Decision.CONFIRMED.value for f in others):
        return None
    await ledger.void_hold(session, reference)
    return "voided"


async def resolve_flag(
    session: AsyncSession,
    *,
    flag_id: uuid.UUID,
    admin_id: uuid.UUID,
    note: str,
    decision: Decision,
    now: datetime,
) -> FraudFlag:
    """Close a review item (409 if closed already) as cleared (no fraud) or confirmed; a suspension it caused
    is lifted, and a ride's held share is released (cleared) or posted to 2110 (confirmed). Audited."""
    repo = FraudRepository(session)
    found = await repo.flag(flag_id)
    if found is None:
        raise FlagNotFound()
    locked: list[FraudFlag] = []
    if found.rule in HOLDING_RULES and found.ride_id is not None:
        locked = await repo.lock_holding_flags(found.ride_id)  # the ride's holding flags, as the payment does
        flag = next((f for f in locked if f.id == flag_id), None)
    else:
        flag = await repo.lock_flag(flag_id)
    assert flag is not None, "flags are never deleted"
    if flag.status != FlagStatus.OPEN:
        raise FlagAlreadyResolved()
    flag.status = FlagStatus.RESOLVED.value
    flag.decision = decision.value
    flag.resolved_at = now
    flag.resolved_by = admin_id
    flag.resolution_note = note
    lifted = await repo.lift_suspensions_of(flag.id)
    await session.flush()
    share = await _settle_hold(session, flag, locked) if locked else None
    audit.record(
        session,
        action="fraud.flag.resolved",
        resource_type="fraud_flag",
        resource_id=str(flag.id),
        old={"status": "OPEN"},
        new={
            "status": "RESOLVED",
            "decision": decision.value,
            "suspensionLifted": lifted > 0,
            "heldShare": share,
            "subjectUserId": str(flag.subject_user_id),
        },
        actor_id=admin_id,
    )
    return flag
