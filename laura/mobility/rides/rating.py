"""Rating a finished ride: one rating per side, the other side's average moved in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.identity.service import Principal
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides.errors import AlreadyRated, RideNotCompleted, RideNotFound
from laura.mobility.rides.models import RideRating
from laura.mobility.rides.repository import RideRepository
from laura.mobility.rides.states import RideStatus

_RATEABLE = (RideStatus.COMPLETED, RideStatus.PAYMENT_PENDING, RideStatus.PAID)


async def rate_ride(
    session: AsyncSession,
    *,
    user: Principal,
    ride_id: uuid.UUID,
    stars: int,
    comment: str | None,
    now: datetime,
) -> RideRating:
    """One rating per side after completion; the other side's average moves in the same transaction."""
    repo = RideRepository(session)
    ride = await repo.get(ride_id)
    if ride is None:
        raise RideNotFound()
    people_repo = PeopleRepository(session)
    passenger = await people_repo.passenger_by_user(user.id)
    driver = await people_repo.driver_by_user(user.id)
    if passenger is not None and passenger.id == ride.passenger_id:
        role, table, ratee = "passenger", "drivers", ride.driver_id
    elif driver is not None and ride.driver_id == driver.id:
        role, table, ratee = "driver", "passengers", ride.passenger_id
    else:
        raise RideNotFound()
    if RideStatus(ride.status) not in _RATEABLE:
        raise RideNotCompleted(f"Ride is {ride.status}; only a completed ride can be rated")
    assert ratee is not None, "a completed ride has its driver"
    rating = RideRating(
        id=uuid.uuid4(),
        ride_id=ride.id,
        rater_role=role,
        rater_user_id=user.id,
        stars=stars,
        comment=comment,
        created_at=now,
    )
    if not await repo.add_rating(rating):
        raise AlreadyRated()
    await people_repo.add_rating(table=table, profile_id=ratee, stars=stars)
    return rating


async def my_rating(session: AsyncSession, *, user: Principal, ride_id: uuid.UUID) -> RideRating | None:
    """The caller's rating of a ride (None before they rate it): a screen shows it instead of the form."""
    return await RideRepository(session).rating_by(ride_id, user.id)
