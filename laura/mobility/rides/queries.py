"""Reading rides: one ride for those who may see it, the caller's active rides and history, and the
operations figures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from laura.identity.service import Principal
from laura.mobility import metrics
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides.errors import RideNotFound
from laura.mobility.rides.lifecycle import RideView, view_of
from laura.mobility.rides.models import Ride, RideOffer
from laura.mobility.rides.repository import PeriodFigures, RideRepository
from laura.mobility.rides.states import RideStatus


async def visible_ride(
    session: AsyncSession, *, user: Principal, ride_id: uuid.UUID, now: datetime
) -> RideView:
    """A ride for its passenger, its driver (or a driver holding a live offer for it) and admins; 404 else."""
    repo = RideRepository(session)
    ride = await repo.get(ride_id)
    if ride is None:
        raise RideNotFound()
    if user.role != "admin":
        people_repo = PeopleRepository(session)
        passenger = await people_repo.passenger_by_user(user.id)
        driver = await people_repo.driver_by_user(user.id)
        mine = passenger is not None and passenger.id == ride.passenger_id
        driving = driver is not None and (
            driver.id == ride.driver_id or await repo.has_live_offer(ride.id, driver.id, now)
        )
        if not (mine or driving):
            raise RideNotFound()
    return await view_of(session, ride)


async def _party(session: AsyncSession, user: Principal) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    people_repo = PeopleRepository(session)
    passenger = await people_repo.passenger_by_user(user.id)
    driver = await people_repo.driver_by_user(user.id)
    return (passenger.id if passenger else None), (driver.id if driver else None)


async def active_rides(session: AsyncSession, *, user: Principal) -> list[RideView]:
    """The caller's rides not finished yet (as passenger or as driver)."""
    passenger_id, driver_id = await _party(session, user)
    rides = await RideRepository(session).active_for(passenger_id=passenger_id, driver_id=driver_id)
    return [await view_of(session, r) for r in rides]


async def live_rides(session: AsyncSession, *, limit: int) -> list[RideView]:
    """Every party's rides not finished yet, newest first, with their drivers (for operations)."""
    return [await view_of(session, r) for r in await RideRepository(session).live(limit=limit)]


async def ride_history(
    session: AsyncSession, *, user: Principal, offset: int, limit: int
) -> tuple[list[RideView], int]:
    """The caller's finished rides, newest first."""
    passenger_id, driver_id = await _party(session, user)
    rides, total = await RideRepository(session).history_for(
        passenger_id=passenger_id, driver_id=driver_id, offset=offset, limit=limit
    )
    return [await view_of(session, r) for r in rides], total


async def open_offers(
    session: AsyncSession, *, user: Principal, now: datetime
) -> list[tuple[RideOffer, Ride]]:
    """The calling driver's offers still waiting for an answer, with their rides: what the driver's screen
    lists with accept and decline (the API pushes each as `ride.offered`; a page read needs them too)."""
    driver = await PeopleRepository(session).driver_by_user(user.id)
    if driver is None:
        return []
    return await RideRepository(session).live_offers_of(driver.id, now)


@dataclass(frozen=True)
class PeriodStats:
    """One period's figures and the rates computed from them, under the names the stats answer shows."""

    since: datetime
    figures: PeriodFigures

    @property
    def total(self) -> int:
        return self.figures.total

    @property
    def by_status(self) -> dict[str, int]:
        """Every status, those without rides at 0."""
        return {status.value: self.figures.by_status.get(status.value, 0) for status in RideStatus}

    @property
    def average_time_to_accept_seconds(self) -> float | None:
        return self.figures.avg_time_to_accept_s

    @property
    def average_ride_duration_seconds(self) -> float | None:
        return self.figures.avg_duration_s

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.figures.total - self.figures.waiting
        return round(self.figures.accepted / decided, 4) if decided else None

    @property
    def offer_acceptance_rate(self) -> float | None:
        answered = self.figures.offers_answered
        return round(self.figures.offers_accepted / answered, 4) if answered else None

    @property
    def cancellation_rate(self) -> float | None:
        total = self.figures.total
        return round(self.figures.canceled / total, 4) if total else None


async def ride_stats(session: AsyncSession, *, timezone: str, now: datetime) -> dict[str, PeriodStats]:
    """Rides by status and the rates operations watch, for today, this week (from Monday) and this month,
    with day boundaries in the operation's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    starts = {"today": today, "week": today - timedelta(days=today.weekday()), "month": today.replace(day=1)}
    repo = RideRepository(session)
    await metrics.refresh_gauges(session)
    return {name: PeriodStats(since, await repo.period_figures(since)) for name, since in starts.items()}
