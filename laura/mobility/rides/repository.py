"""Every query on rides, offers, accept attempts, ratings and cancellation counts; never commits."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import execute, fetchrow
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


_CLAIM_ACCEPT = """
WITH seen AS (
    SELECT d.id AS driver_id, r.id AS ride_id, r.status, r.driver_id AS ride_driver, r.version,
           o.id AS offer_id, o.response, o.expires_at
      FROM (SELECT 1) AS one
      LEFT JOIN drivers d ON d.user_id = $1
      LEFT JOIN rides r ON r.id = $2
      LEFT JOIN ride_offers o ON o.ride_id = r.id AND o.driver_id = d.id
), verdict AS (
    SELECT seen.*,
           CASE WHEN offer_id IS NULL THEN 404
                WHEN ride_driver <> driver_id AND status = ANY($10::text[]) THEN 409 END AS refused
      FROM seen
), attempt AS (
    INSERT INTO ride_accept_attempts AS a (id, ride_id, driver_id, idempotency_key, status, failure_reason,
                response_status, response_body, attempt_at, completed_at)
    SELECT $3::uuid, v.ride_id, v.driver_id, $4::text,
           CASE WHEN v.refused IS NULL THEN 'PENDING' ELSE 'FAILED' END,
           b.body ->> 'error', v.refused, b.body, $5::timestamptz,
           CASE WHEN v.refused IS NOT NULL THEN $5::timestamptz END
      FROM verdict v
      CROSS JOIN LATERAL (SELECT CASE v.refused WHEN 404 THEN $6::jsonb
                                  WHEN 409 THEN jsonb_set($7::jsonb, '{details,currentStatus}', to_jsonb(v.status))
                                  END AS body) AS b
     WHERE v.driver_id IS NOT NULL AND v.ride_id IS NOT NULL
        ON CONFLICT (driver_id, idempotency_key) DO NOTHING
    RETURNING a.id
)
SELECT v.driver_id, v.ride_id, v.status, v.refused, a.id AS attempt_id,
       v.refused IS NULL AND v.status = 'OFFERED' AND v.response IS NULL AND v.expires_at > $5 AS candidate,
       CASE WHEN $8::boolean AND a.id IS NOT NULL AND v.refused IS NULL AND v.status = 'OFFERED'
                 AND v.response IS NULL AND v.expires_at > $5
            THEN pg_try_advisory_xact_lock(7426011, $9::integer) END AS locked
  FROM verdict v LEFT JOIN attempt a ON true
"""
"""One round trip decides most accepts. The refusals visible at once (never offered to this driver: 404;
someone else's already: 409) are stored with their answer as the attempt is inserted. A fresh attempt by
a driver holding a live offer of an OFFERED ride is a candidate; with `try_lock` ($8) it also tries the
ride's transaction-scoped advisory lock (keys 7426011 and `accept_lock_key`), so of the candidates running at the same moment one goes on and the others are
answered without waiting for the row. An `attempt_id` of NULL means the key was used before: its
committed answer is replayed (a concurrent twin waits on the unique index until the first commits)."""

_ASSIGN = """
WITH drv AS (
    UPDATE drivers SET current_ride_id = $1
     WHERE id = $2 AND current_ride_id IS NULL AND EXISTS (SELECT 1 FROM rides WHERE id = $1 AND version = $4)
    RETURNING id, user_id, full_name, average_rating
), ride AS (
    UPDATE rides SET driver_id = $2, status = 'ACCEPTED', status_changed_at = $3, accepted_at = $3,
                     version = version + 1
     WHERE id = $1 AND version = $4 AND EXISTS (SELECT 1 FROM drv)
    RETURNING *
), offers AS (
    UPDATE ride_offers SET response = CASE WHEN driver_id = $2 THEN 'ACCEPTED' ELSE 'CANCELED' END,
                           responded_at = $3
     WHERE ride_id = $1 AND response IS NULL AND EXISTS (SELECT 1 FROM ride)
    RETURNING driver_id, response
)
SELECT ride.id, ride.status, ride.category, ride.passenger_id, ride.driver_id,
       ride.pickup_lat::float8 AS pickup_lat, ride.pickup_lon::float8 AS pickup_lon,
       ride.dropoff_lat::float8 AS dropoff_lat, ride.dropoff_lon::float8 AS dropoff_lon,
       ride.estimated_distance_m, ride.estimated_duration_s, ride.surge_multiplier, ride.estimated_fare,
       ride.final_fare, ride.final_distance_m, ride.final_duration_s, ride.fare_basis, ride.cancellation_fee,
       ride.canceled_by, ride.cancel_reason, ride.expire_reason, ride.dispatch_round, ride.version,
       ride.created_at, ride.accepted_at, ride.arrived_at, ride.started_at, ride.completed_at,
       ride.canceled_at, ride.expired_at,
       drv.user_id AS driver_user_id, drv.full_name AS driver_full_name,
       drv.average_rating AS driver_average_rating,
       v.license_plate, v.brand, v.model, v.category AS vehicle_category,
       p.user_id AS passenger_user_id,
       ARRAY(SELECT d.user_id FROM offers JOIN drivers d ON d.id = offers.driver_id
              WHERE offers.response = 'CANCELED') AS canceled_user_ids
  FROM ride CROSS JOIN drv
  JOIN passengers p ON p.id = ride.passenger_id
  LEFT JOIN vehicles v ON v.driver_id = drv.id AND v.status = 'active'
"""
"""Under the ride's row lock (version as read under it): the driver takes the ride unless already on a
trip, the ride becomes ACCEPTED (version bumped), the driver's offer ACCEPTED and every other open one
CANCELED. Every write is gated on the driver's, so a busy driver changes nothing. Returns the ride as the
API shows it, with the driver, the vehicle and the users to notify."""


def accept_lock_key(ride_id: uuid.UUID) -> int:
    """The ride's second advisory-lock key: its last 32 bits (random in a UUID v4 or v7)."""
    return int.from_bytes(ride_id.bytes[-4:], "big", signed=True)


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
        return await self.session.scalar(
            select(func.count()).where(
                RideOffer.ride_id == ride_id,
                RideOffer.round == round,
                RideOffer.response.is_(None),
                RideOffer.expires_at > now,
            )
        )

    async def waiting_requests(self, cells: list[int], *, category: str) -> int:
        """Rides still looking for a driver whose pickup lies in `cells` (surge demand)."""
        return await self.session.scalar(
            text(
                "SELECT count(*) FROM rides WHERE status IN ('REQUESTED','SEARCHING','OFFERED')"
                " AND category = :category AND pickup_h3 = ANY(CAST(:cells AS bigint[]))"
            ),
            {"cells": cells, "category": category},
        )

    async def claim_accept(
        self,
        *,
        user_id: uuid.UUID,
        ride_id: uuid.UUID,
        key: str,
        now: datetime,
        not_offered: Any,
        taken: Any,
        try_lock: bool,
    ) -> asyncpg.Record:
        """Flow 1's first statement, see `_CLAIM_ACCEPT`. `not_offered` and `taken` are the answers stored
        for a refusal settled on sight (`taken` gets the ride's status as `details.currentStatus`)."""
        return await fetchrow(
            self.session,
            _CLAIM_ACCEPT,
            user_id,
            ride_id,
            uuid.uuid4(),
            key,
            now,
            json.dumps(not_offered),
            json.dumps(taken),
            try_lock,
            accept_lock_key(ride_id),
            [s.value for s in TAKEN],
        )

    async def accept_attempt(self, driver_id: uuid.UUID, key: str) -> asyncpg.Record | None:
        """The committed attempt of (driver, key): its ride and the answer to replay."""
        return await fetchrow(
            self.session,
            "SELECT ride_id, response_status, response_body FROM ride_accept_attempts"
            " WHERE driver_id = $1 AND idempotency_key = $2",
            driver_id,
            key,
        )

    async def lock_for_accept(self, ride_id: uuid.UUID, driver_id: uuid.UUID) -> asyncpg.Record | None:
        """The ride under its row lock (NO KEY UPDATE, see `lock`) with the driver's offer, as of now."""
        return await fetchrow(
            self.session,
            "SELECT r.status, r.driver_id, r.version, o.id AS offer_id, o.response, o.expires_at"
            " FROM rides r LEFT JOIN ride_offers o ON o.ride_id = r.id AND o.driver_id = $2"
            " WHERE r.id = $1 FOR NO KEY UPDATE OF r",
            ride_id,
            driver_id,
        )

    async def assign(
        self, *, ride_id: uuid.UUID, driver_id: uuid.UUID, version: int, now: datetime
    ) -> asyncpg.Record | None:
        """The winner's writes in one statement (see `_ASSIGN`); None when the driver is on another trip."""
        return await fetchrow(self.session, _ASSIGN, ride_id, driver_id, now, version)

    async def finish_attempt(
        self,
        attempt_id: uuid.UUID,
        *,
        success: bool,
        reason: str | None,
        status: int,
        body: Any,
        now: datetime,
    ) -> None:
        await execute(
            self.session,
            "UPDATE ride_accept_attempts SET status = $2, failure_reason = $3, response_status = $4,"
            " response_body = $5::jsonb, completed_at = $6 WHERE id = $1",
            attempt_id,
            "SUCCESS" if success else "FAILED",
            reason,
            status,
            json.dumps(body),
            now,
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
        total = await self.session.scalar(select(func.count()).select_from(Ride).where(*where))
        rows = await self.session.scalars(
            select(Ride)
            .where(*where)
            .order_by(Ride.created_at.desc(), Ride.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total

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

    async def active_count(self) -> int:
        return await self.session.scalar(
            select(func.count()).select_from(Ride).where(Ride.status.in_([s.value for s in ACTIVE]))
        )

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
