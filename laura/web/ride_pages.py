"""What the rider's and the driver's pages share: who may open them, the ride's status as a sentence, the
points of a ride form, the map's markers and the fee a cancellation would cost now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.errors import AppError
from laura.identity.service import Principal
from laura.mobility.matching import service as matching
from laura.mobility.rides.cancellation import CanceledBy, cancellation_outcome
from laura.mobility.rides.models import Ride
from laura.mobility.rides.policy import RidePolicy
from laura.mobility.rides.schemas import Point
from laura.mobility.rides.states import RideStatus
from laura.web import once, ridemap
from laura.web.forms import FormErrors
from laura.web.i18n import N_
from laura.web.render import page, page_locale

STATUS_TEXT: dict[str, str] = {
    RideStatus.REQUESTED: N_("Requested"),
    RideStatus.SEARCHING: N_("Looking for a driver"),
    RideStatus.OFFERED: N_("Offered to drivers nearby"),
    RideStatus.ACCEPTED: N_("A driver accepted"),
    RideStatus.DRIVER_ARRIVING: N_("Driver on the way"),
    RideStatus.DRIVER_ARRIVED: N_("The driver is at the pickup"),
    RideStatus.IN_PROGRESS: N_("On the trip"),
    RideStatus.COMPLETED: N_("Completed"),
    RideStatus.PAYMENT_PENDING: N_("Waiting for payment"),
    RideStatus.PAID: N_("Paid"),
    RideStatus.CANCELED: N_("Canceled"),
    RideStatus.EXPIRED: N_("No driver found"),
}
CATEGORY_TEXT: dict[str, str] = {
    "standard": N_("Standard"),
    "comfort": N_("Comfort"),
    "premium": N_("Premium"),
    "xl": N_("XL (6 seats)"),
}
FINISHED = frozenset({RideStatus.COMPLETED, RideStatus.PAYMENT_PENDING, RideStatus.PAID})
"""A ride that happened: it can be rated and paid."""
CANCELABLE = frozenset(
    {
        RideStatus.REQUESTED,
        RideStatus.SEARCHING,
        RideStatus.OFFERED,
        RideStatus.ACCEPTED,
        RideStatus.DRIVER_ARRIVING,
        RideStatus.DRIVER_ARRIVED,
    }
)


def policy(request: Request) -> RidePolicy:
    return RidePolicy.from_settings(request.app.state.settings)


def wrong_area(request: Request, user: Principal, role: str) -> Response | None:
    """Another role's screen reads as not found, as another user's resource does (admins see everything)."""
    if user.role in (role, "admin"):
        return None
    return page(request, "not_found.html", status_code=404, user=user)


def not_found(request: Request, user: Principal) -> Response:
    return page(request, "not_found.html", status_code=404, user=user)


async def read_form(request: Request) -> dict[str, str]:
    """The form's text fields, trimmed."""
    form = await request.form()
    return {name: str(value).strip() for name, value in form.items() if isinstance(value, str)}


def fingerprint(request: Request, values: dict[str, str]) -> str:
    """What makes two submissions the same one: the fields, the CSRF token aside."""
    return once.form_fingerprint(request, {k: v for k, v in values.items() if k != "csrftoken"})


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def form_point(values: dict[str, str], name: str, errors: FormErrors) -> tuple[float, float] | None:
    """`<name>_place` (a named place) or `<name>_lat` / `<name>_lon` (typed or set by a click on the map)."""
    chosen = ridemap.place(values.get(f"{name}_place", ""))
    if chosen is not None:
        return chosen.lat, chosen.lon
    lat, lon = _number(values.get(f"{name}_lat", "")), _number(values.get(f"{name}_lon", ""))
    try:
        if lat is None or lon is None:
            raise ValueError(name)
        point = Point(lat=lat, lon=lon)
    except (ValueError, ValidationError):
        errors.add(name, N_("Choose a place or click the map (or type latitude and longitude)."))
        return None
    return point.lat, point.lon


@dataclass(frozen=True)
class Marker:
    kind: str
    """pickup, dropoff or driver: the class (and the colour) of the dot."""
    label: str
    lat: float
    lon: float

    @property
    def xy(self) -> tuple[float, float]:
        return ridemap.xy(self.lat, self.lon)


def ride_markers(ride: Ride, driver_at: tuple[float, float] | None = None) -> list[Marker]:
    markers = [
        Marker("pickup", N_("Pickup"), ride.pickup_lat, ride.pickup_lon),
        Marker("dropoff", N_("Drop-off"), ride.dropoff_lat, ride.dropoff_lon),
    ]
    if driver_at is not None:
        markers.append(Marker("driver", N_("Driver"), *driver_at))
    return markers


def cancel_fee(ride: Ride, rules: RidePolicy, by: CanceledBy, now: datetime) -> Decimal | None:
    """What canceling now would cost (0.00 when free), or None when the ride can no longer be canceled."""
    try:
        outcome = cancellation_outcome(
            RideStatus(ride.status),
            by=by,
            accepted_at=ride.accepted_at,
            now=now,
            fee=rules.cancellation_fee,
            free_window=timedelta(seconds=rules.free_cancellation_s),
        )
    except (AppError, ValueError):
        return None
    return outcome.fee


def distance_text(request: Request, meters: int) -> str:
    """`3,2 km` (pt-BR) / `3.2 km` (en)."""
    return f"{format_decimal(round(meters / 1000, 1), format='#,##0.0', locale=page_locale(request))} km"


def minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


def form_markers(values: dict[str, str]) -> list[Marker]:
    """The points a form already names (a place or typed coordinates), drawn on its map."""
    found = []
    for kind, label in (("pickup", N_("Pickup")), ("dropoff", N_("Drop-off"))):
        point = form_point(values, kind, FormErrors())
        if point is not None:
            found.append(Marker(kind, label, *point))
    return found


def multiplier_text(request: Request, value: Decimal) -> str:
    """A surge multiplier as the page's language writes a decimal (`1,3`)."""
    return format_decimal(value, format="#,##0.0#", locale=page_locale(request))


async def driver_position(session: AsyncSession, driver_id: uuid.UUID | None) -> tuple[float, float] | None:
    """Where the ride's driver last reported being (the map's driver dot)."""
    if driver_id is None:
        return None
    found = await matching.current_position(session, driver_id)
    return (found.lat, found.lon) if found else None
