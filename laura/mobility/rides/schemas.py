"""Ride requests and responses with the spec's wire names; coordinates are checked here (422 when wrong)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AliasChoices, Field, PlainSerializer, model_validator

from laura.core.money import Money
from laura.core.schemas import ApiModel, RequestModel, UtcDatetime
from laura.mobility.categories import VehicleCategory
from laura.mobility.rides.states import RideStatus

if TYPE_CHECKING:
    from laura.mobility.people.models import Driver, Vehicle
    from laura.mobility.rides.models import Ride

Multiplier = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
Rating = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class Point(RequestModel):
    """A position on Earth; (0, 0) is refused since it is what a broken GPS reports."""

    lat: float = Field(ge=-90, le=90, examples=[-23.5614])
    lon: float = Field(ge=-180, le=180, examples=[-46.6559])

    @model_validator(mode="after")
    def _not_null_island(self) -> Point:
        if self.lat == 0 and self.lon == 0:
            raise ValueError("(0, 0) is not a valid position")
        return self


class EstimateRequest(RequestModel):
    pickup: Point
    dropoff: Point
    category: VehicleCategory = VehicleCategory.STANDARD


class CreateRideRequest(EstimateRequest):
    pass


class EstimateOut(ApiModel):
    category: VehicleCategory
    distance_meters: int = Field(validation_alias=AliasChoices("distance_meters", "distance_m"))
    duration_seconds: int = Field(validation_alias=AliasChoices("duration_seconds", "duration_s"))
    fare: Money
    surge_multiplier: Multiplier = Field(validation_alias=AliasChoices("surge_multiplier", "surge"))
    currency: Literal["BRL"] = "BRL"
    available_drivers: int
    pickup_eta_seconds: int | None = Field(
        validation_alias=AliasChoices("pickup_eta_seconds", "pickup_eta_s")
    )


class PointOut(ApiModel):
    lat: float
    lon: float


class RideVehicleOut(ApiModel):
    license_plate: str
    brand: str
    model: str
    category: VehicleCategory


class RideDriverOut(ApiModel):
    id: uuid.UUID
    full_name: str
    average_rating: Rating | None
    vehicle: RideVehicleOut | None


class RideOut(ApiModel):
    id: uuid.UUID
    status: RideStatus
    category: VehicleCategory
    passenger_id: uuid.UUID
    driver_id: uuid.UUID | None
    driver: RideDriverOut | None = None
    pickup: PointOut
    dropoff: PointOut
    estimated_distance_meters: int
    estimated_duration_seconds: int
    surge_multiplier: Multiplier
    estimated_fare: Money
    final_fare: Money | None
    final_distance_meters: int | None
    final_duration_seconds: int | None
    fare_basis: Literal["trail", "estimate"] | None
    cancellation_fee: Money | None
    canceled_by: str | None
    cancel_reason: str | None
    expire_reason: str | None
    dispatch_round: int
    version: int
    created_at: UtcDatetime
    accepted_at: UtcDatetime | None
    arrived_at: UtcDatetime | None
    started_at: UtcDatetime | None
    completed_at: UtcDatetime | None
    canceled_at: UtcDatetime | None
    expired_at: UtcDatetime | None

    @classmethod
    def of(cls, ride: Ride, driver: Driver | None = None, vehicle: Vehicle | None = None) -> RideOut:
        """A ride row (and its driver with the active vehicle, when assigned) on the wire."""
        r = ride
        return cls(
            id=r.id,
            status=r.status,
            category=r.category,
            passenger_id=r.passenger_id,
            driver_id=r.driver_id,
            driver=RideDriverOut(
                id=driver.id,
                full_name=driver.full_name,
                average_rating=driver.average_rating,
                vehicle=RideVehicleOut.model_validate(vehicle) if vehicle else None,
            )
            if driver is not None
            else None,
            pickup=PointOut(lat=r.pickup_lat, lon=r.pickup_lon),
            dropoff=PointOut(lat=r.dropoff_lat, lon=r.dropoff_lon),
            estimated_distance_meters=r.estimated_distance_m,
            estimated_duration_seconds=r.estimated_duration_s,
            surge_multiplier=r.surge_multiplier,
            estimated_fare=r.estimated_fare,
            final_fare=r.final_fare,
            final_distance_meters=r.final_distance_m,
            final_duration_seconds=r.final_duration_s,
            fare_basis=r.fare_basis,
            cancellation_fee=r.cancellation_fee,
            canceled_by=r.canceled_by,
            cancel_reason=r.cancel_reason,
            expire_reason=r.expire_reason,
            dispatch_round=r.dispatch_round,
            version=r.version,
            created_at=r.created_at,
            accepted_at=r.accepted_at,
            arrived_at=r.arrived_at,
            started_at=r.started_at,
            completed_at=r.completed_at,
            canceled_at=r.canceled_at,
            expired_at=r.expired_at,
        )


class ActiveRidesOut(ApiModel):
    data: list[RideOut]


class CancelRequest(RequestModel):
    reason: str = Field(min_length=1, max_length=500, examples=["Changed my plans"])


class RatingRequest(RequestModel):
    stars: int = Field(ge=1, le=5, examples=[5])
    comment: str | None = Field(default=None, max_length=500)


class RatingOut(ApiModel):
    ride_id: uuid.UUID
    rater_role: Literal["passenger", "driver"]
    stars: int
    comment: str | None
    created_at: UtcDatetime


class PeriodStats(ApiModel):
    since: UtcDatetime
    total: int
    by_status: dict[str, int]
    acceptance_rate: float | None
    offer_acceptance_rate: float | None
    cancellation_rate: float | None
    average_time_to_accept_seconds: float | None
    average_ride_duration_seconds: float | None


class RideStatsOut(ApiModel):
    generated_at: UtcDatetime
    timezone: str
    today: PeriodStats
    week: PeriodStats
    month: PeriodStats


class OfferOut(ApiModel):
    ride_id: uuid.UUID
    driver_id: uuid.UUID
    round: int
    distance_meters: int = Field(validation_alias=AliasChoices("distance_meters", "distance_m"))
    eta_seconds: int = Field(validation_alias=AliasChoices("eta_seconds", "eta_s"))
    response: Literal["ACCEPTED", "REJECTED", "EXPIRED", "CANCELED"] | None
    offered_at: UtcDatetime
    expires_at: UtcDatetime
    responded_at: UtcDatetime | None
