"""Every query on rides, offers, accept attempts, ratings and cancellation counts; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database
from laura.core.statement import AUDIT_ARGS, FunctionCall
from laura.mobility.rides.models import Ride, RideOffer, RideRating
from laura.mobility.rides.states import RideStatus

WAITING = (RideStatus.REQUESTED, RideStatus.SEARCHING, RideStatus.OFFERED)
ACTIVE = (
    *WAITING,
    RideStatus.ACCEPTED,
    RideStatus.DRIVER_ARRIVING,
    RideStatus.DRIVER_ARRIVED,
    RideStatus.IN_PROGRESS,
)
TAKEN = (
    RideStatus.ACCEPTED,
    RideStatus.DRIVER_ARRIVING,
    RideStatus.DRIVER_ARRIVED,
    RideStatus.IN_PROGRESS,
    RideStatus.COMPLETED,
    RideStatus.PAYMENT_PENDING,
    RideStatus.PAID,
)
"""A driver holds the ride: nobody else can accept it any more."""
_HISTORY = (
    RideStatus.COMPLETED,
    RideStatus.PAYMENT_PENDING,
    RideStatus.PAID,
    RideStatus.CANCELED,
    RideStatus.EXPIRED,
)

_DONE = (RideStatus.COMPLETED.value, RideStatus.PAYMENT_PENDING.value, RideStatus.PAID.value)
"""Completed, paid or awaiting payment."""

_ACCEPT_ARGS = (
    "session",
    "user",
    "ride",
    "key",
    "attempt",
    "now",
    "request_id",
    "may_try",
    "try_lock",
    "locked",
    "taken",
    "refusals",
    *AUDIT_ARGS,
    "accepted_type",
    "canceled_type",
    "canceled_data",
)
_ACCEPT = FunctionCall(
    "ride_accept",
    "outcome, answer_status, answer_body, answer_ride, ride_created_at, mirror_driver, mirror_category, mirror_lat,"
    " mirror_lon, mirror_recorded_at, mirror_version",
    _ACCEPT_ARGS,
)


async def accept(db: Database, **args: Any) -> asyncpg.Record:
    """A whole accept in one autocommit statement (`ride_accept`, sql/accept.sql): the session check, the attempt, the
    ride's locks and checks, the assignment, the audit and outbox rows and the stored answer. Takes
    `ride_accept`'s arguments by name (without `p_`, and without `taken`: this repository's `TAKEN`);
    returns its outcome and answer."""
    return await _ACCEPT(db, taken=[s.value for s in TAKEN], **args)


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    total: int
    by_status: dict[str, int]
    waiting: int
    accepted: int
    canceled: int
    avg_time_to_accept_s: float | None
    avg_duration_s: float | None
    offers_accepted: int
    offers_answered: int


class RideRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def get(self, ride_id: uuid.UUID) -> Ride | None:
        return await self.session.scalar(
            select(Ride).where(Ride.id == ride_id).execution_options(populate_existing=True)
        )

    async def lock(self, ride_id: uuid.UUID) -> Ride | None:
        """The ride under a row lock until the transaction ends (flow 1's SELECT ... FOR UPDATE).

        NO KEY UPDATE: it serializes every writer of the ride the same way, yet does not conflict with the
        KEY SHARE locks that concurrent inserts referencing the ride take for their foreign keys.
        """
        return await self.session.scalar(
            select(Ride)
            .where(Ride.id == ride_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )

    async def offer(self, ride_id: uuid.UUID, driver_id: uuid.UUID) -> RideOffer | None:
        return await self.session.scalar(
            select(RideOffer)
            .where(RideOffer.ride_id == ride_id, RideOffer.driver_id == driver_id)
            .execution_options(populate_existing=True)
        )

    async def has_live_offer(self, ride_id: uuid.UUID, driver_id: uuid.UUID, now: datetime) -> bool:
        return bool(
            await self.session.scalar(
                select(func.count()).where(
                    RideOffer.ride_id == ride_id,
                    RideOffer.driver_id == driver_id,
                    RideOffer.response.is_(None),
                    RideOffer.expires_at > now,
                )
            )
        )

    async def live_offers_of(self, driver_id: uuid.UUID, now: datetime) -> list[tuple[RideOffer, Ride]]:
        """A driver's offers still open (unanswered, not lapsed, the ride still OFFERED), newest first."""
        rows = await self.session.execute(
            select(RideOffer, Ride)
            .join(Ride, Ride.id == RideOffer.ride_id)
            .where(
                RideOffer.driver_id == driver_id,
                RideOffer.response.is_(None),
                RideOffer.expires_at > now,
                Ride.status == RideStatus.OFFERED.value,
            )
            .order_by(RideOffer.offered_at.desc())
        )
        return [(offer, ride) for offer, ride in rows.tuples()]

    async def asked_drivers(self, ride_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            await self.session.scalars(select(RideOffer.driver_id).where(RideOffer.ride_id == ride_id))
        )

    async def close_open_offers(
        self,
        ride_id: uuid.UUID,
        *,
        response: str,
        now: datetime,
        round: int | None = None,
        except_driver: uuid.UUID | None = None,
    ) -> list[uuid.UUID]:
        """Answer every still-open offer of the ride (or of one round) with `response`; their drivers."""
        rows = await self.session.execute(
            text(
                "UPDATE ride_offers SET response = :response, responded_at = :now"
                " WHERE ride_id = :ride_id AND response IS NULL"
                " AND (CAST(:round AS integer) IS NULL OR round = :round)"
                " AND (CAST(:except_driver AS uuid) IS NULL OR driver_id <> :except_driver)"
                " RETURNING driver_id"
            ),
            {
                "response": response,
                "now": now,
                "ride_id": ride_id,
                "round": round,
                "except_driver": except_driver,
            },
        )
        return [r.driver_id for r in rows]

    async def open_offers(self, ride_id: uuid.UUID, round: int, now: datetime) -> int:
        """Offers of the round nobody answered yet and still live."""
        count = select(func.count()).where(
            RideOffer.ride_id == ride_id,
            RideOffer.round == round,
            RideOffer.response.is_(None),
            RideOffer.expires_at > now,
        )
        live: int = (await self.session.execute(count)).scalar_one()
        return live

    async def waiting_requests(self, cells: list[int], *, category: str) -> int:
        """Rides still looking for a driver whose pickup lies in `cells` (surge demand)."""
        return await self.session.scalar(
            text(
                "SELECT count(*) FROM rides WHERE status IN ('REQUESTED','SEARCHING','OFFERED')"
                " AND category = :category AND pickup_h3 = ANY(CAST(:cells AS bigint[]))"
            ),
            {"cells": cells, "category": category},
        )

    async def rating_by(self, ride_id: uuid.UUID, user_id: uuid.UUID) -> RideRating | None:
        """The rating this user gave the ride, if any."""
        return await self.session.scalar(
            select(RideRating).where(RideRating.ride_id == ride_id, RideRating.rater_user_id == user_id)
        )

    async def add_rating(self, rating: RideRating) -> bool:
        """Store a rating; False when this side already rated the ride."""
        inserted = await self.session.scalar(
            text(
                "INSERT INTO ride_ratings"
                " (id, ride_id, rater_role, rater_user_id, stars, comment, created_at)"
                " VALUES (:id, :ride_id, :role, :user_id, :stars, :comment, :created_at)"
                " ON CONFLICT (ride_id, rater_role) DO NOTHING RETURNING id"
            ),
            {
                "id": rating.id,
                "ride_id": rating.ride_id,
                "role": rating.rater_role,
                "user_id": rating.rater_user_id,
                "stars": rating.stars,
                "comment": rating.comment,
                "created_at": rating.created_at,
            },
        )
        return inserted is not None

    async def count_cancellation(
        self, *, user_id: uuid.UUID, role: str, after_acceptance: bool, with_fee: bool, now: datetime
    ) -> None:
        await self.session.execute(
            text(
                "INSERT INTO ride_cancellation_counters AS c"
                " (user_id, role, total, after_acceptance, with_fee, last_canceled_at)"
                " VALUES (:user_id, :role, 1, :after, :fee, :now)"
                " ON CONFLICT (user_id, role) DO UPDATE SET total = c.total + 1,"
                " after_acceptance = c.after_acceptance + EXCLUDED.after_acceptance,"
                " with_fee = c.with_fee + EXCLUDED.with_fee, last_canceled_at = EXCLUDED.last_canceled_at"
            ),
            {
                "user_id": user_id,
                "role": role,
                "after": int(after_acceptance),
                "fee": int(with_fee),
                "now": now,
            },
        )

    def _party(self, passenger_id: uuid.UUID | None, driver_id: uuid.UUID | None) -> Any:
        clauses = []
        if passenger_id is not None:
            clauses.append(Ride.passenger_id == passenger_id)
        if driver_id is not None:
            clauses.append(Ride.driver_id == driver_id)
        return or_(*clauses) if clauses else false()

    async def active_for(self, *, passenger_id: uuid.UUID | None, driver_id: uuid.UUID | None) -> list[Ride]:
        rows = await self.session.scalars(
            select(Ride)
            .where(self._party(passenger_id, driver_id), Ride.status.in_([s.value for s in ACTIVE]))
            .order_by(Ride.created_at.desc())
        )
        return list(rows)

    async def history_for(
        self, *, passenger_id: uuid.UUID | None, driver_id: uuid.UUID | None, offset: int, limit: int
    ) -> tuple[list[Ride], int]:
        where = (self._party(passenger_id, driver_id), Ride.status.in_([s.value for s in _HISTORY]))
        count = select(func.count()).select_from(Ride).where(*where)
        total: int = (await self.session.execute(count)).scalar_one()
        rows = await self.session.scalars(
            select(Ride)
            .where(*where)
            .order_by(Ride.created_at.desc(), Ride.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total

    async def pair_completed(
        self, *, passenger_id: uuid.UUID, driver_id: uuid.UUID, since: datetime
    ) -> list[tuple[datetime, int, int | None]]:
        """(completed_at, estimated and final distance) of the passenger's rides with this driver completed
        since `since`."""
        result = await self.session.execute(
            select(Ride.completed_at, Ride.estimated_distance_m, Ride.final_distance_m).where(
                Ride.passenger_id == passenger_id,
                Ride.driver_id == driver_id,
                Ride.status.in_(_DONE),
                Ride.completed_at > since,
            )
        )
        return [(at, estimated, final) for at, estimated, final in result.all() if at is not None]

    async def offered_past_expiry(self, now: datetime, *, limit: int = 100) -> list[tuple[uuid.UUID, int]]:
        """OFFERED rides whose current round has no live offer left (the sweeper's safety net)."""
        rows = await self.session.execute(
            text(
                "SELECT r.id, r.dispatch_round FROM rides r WHERE r.status = 'OFFERED' AND NOT EXISTS ("
                " SELECT 1 FROM ride_offers o WHERE o.ride_id = r.id AND o.round = r.dispatch_round"
                " AND o.response IS NULL AND o.expires_at > :now) ORDER BY r.status_changed_at LIMIT :limit"
            ),
            {"now": now, "limit": limit},
        )
        return [(r.id, r.dispatch_round) for r in rows]

    async def live(self, *, limit: int) -> list[Ride]:
        """Every ride not finished yet, newest first (the operations console's live list)."""
        rows = await self.session.scalars(
            select(Ride)
            .where(Ride.status.in_([s.value for s in ACTIVE]))
            .order_by(Ride.created_at.desc(), Ride.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def active_count(self) -> int:
        count = select(func.count()).select_from(Ride).where(Ride.status.in_([s.value for s in ACTIVE]))
        active: int = (await self.session.execute(count)).scalar_one()
        return active

    async def period_figures(self, since: datetime) -> PeriodFigures:
        """Counts and averages over the rides created (and offers sent) since `since`."""
        by_status = {
            r.status: r.n
            for r in await self.session.execute(
                text("SELECT status, count(*) AS n FROM rides WHERE created_at >= :since GROUP BY status"),
                {"since": since},
            )
        }
        row = (
            await self.session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE accepted_at IS NOT NULL) AS accepted,"
                    " avg(extract(epoch FROM accepted_at - created_at)) AS to_accept,"
                    " avg(extract(epoch FROM completed_at - started_at)) AS duration"
                    " FROM rides WHERE created_at >= :since"
                ),
                {"since": since},
            )
        ).one()
        offers = (
            await self.session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE response = 'ACCEPTED') AS accepted,"
                    " count(*) FILTER (WHERE response IN ('ACCEPTED','REJECTED','EXPIRED')) AS answered"
                    " FROM ride_offers WHERE offered_at >= :since"
                ),
                {"since": since},
            )
        ).one()
        return PeriodFigures(
            total=sum(by_status.values()),
            by_status=by_status,
            waiting=sum(by_status.get(s.value, 0) for s in WAITING),
            accepted=row.accepted,
            canceled=by_status.get(RideStatus.CANCELED.value, 0),
            avg_time_to_accept_s=float(row.to_accept) if row.to_accept is not None else None,
            avg_duration_s=float(row.duration) if row.duration is not None else None,
            offers_accepted=offers.accepted,
            offers_answered=offers.answered,
        )
