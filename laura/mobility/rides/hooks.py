"""What follows a ride's completion or cancellation in its own transaction (payments asks for the fare, or
for the cancellation fee) hooks in here, so rides never imports the features above it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.mobility.people.models import Driver
from laura.mobility.rides.models import Ride

CompletedHook = Callable[[AsyncSession, Ride, Driver, datetime], Awaitable[None]]
CanceledHook = Callable[[AsyncSession, Ride, Driver | None, datetime], Awaitable[None]]
_completed_hooks: list[CompletedHook] = []
_canceled_hooks: list[CanceledHook] = []


def on_ride_completed(hook: CompletedHook) -> CompletedHook:
    """Run `hook(session, ride, driver, now)` in the completing transaction, once the ride is COMPLETED."""
    if hook not in _completed_hooks:
        _completed_hooks.append(hook)
    return hook


def on_ride_canceled(hook: CanceledHook) -> CanceledHook:
    """Run `hook(session, ride, driver, now)` in the canceling transaction, once the passenger's
    cancellation made the ride CANCELED with its fee recorded (`driver`: the one released, or None)."""
    if hook not in _canceled_hooks:
        _canceled_hooks.append(hook)
    return hook


async def ride_completed(session: AsyncSession, ride: Ride, driver: Driver, now: datetime) -> None:
    for hook in _completed_hooks:
        await hook(session, ride, driver, now)


async def ride_canceled(session: AsyncSession, ride: Ride, driver: Driver | None, now: datetime) -> None:
    for hook in _canceled_hooks:
        await hook(session, ride, driver, now)
