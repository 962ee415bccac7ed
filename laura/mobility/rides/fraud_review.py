"""The anti-fraud rules judged as a ride completes (maximum fare, long route, collusion): rides gathers the
facts and fraud decides, in the completing transaction. A direct call, not a `hooks.on_ride_completed`
hook: fraud sits below rides in the import layers, so it cannot register one, and rides may call it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from laura.mobility.fraud import service as fraud
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.people.models import Driver
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.rides.models import Ride
from laura.mobility.rides.repository import RideRepository


async def judge_completed(
    session: AsyncSession, policy: FraudPolicy, ride: Ride, driver: Driver, now: datetime
) -> list[str]:
    """Flag what the completion rules find (the rules that fired)."""
    assert ride.final_fare is not None and ride.final_distance_m is not None, "a completed ride is measured"
    pair = await RideRepository(session).pair_completed(
        passenger_id=ride.passenger_id,
        driver_id=driver.id,
        since=now - timedelta(hours=policy.collusion_window_hours),
    )
    passengers = await PeopleRepository(session).user_ids(passenger_id=ride.passenger_id)
    fired = await fraud.ride_completed(
        session,
        policy,
        fraud.CompletedRide(
            ride_id=ride.id,
            driver_user_id=driver.user_id,
            passenger_user_id=passengers[ride.passenger_id],
            fare=ride.final_fare,
            estimated_distance_m=ride.estimated_distance_m,
            final_distance_m=ride.final_distance_m,
            billed_on_trail=ride.fare_basis == "trail",
            pair_rides=[fraud.PairRide.of(at, estimated, final) for at, estimated, final in pair],
        ),
        now=now,
    )
    return [rule.value for rule in fired]
