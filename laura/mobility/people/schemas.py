"""Driver onboarding and profile payloads, with the spec's wire names."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PlainSerializer

from laura.core.schemas import ApiModel, RequestModel, UtcDatetime
from laura.mobility.categories import VehicleCategory
from laura.mobility.people.models import ApprovalStatus

Rating = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""An average of stars (1.00 to 5.00), a JSON number."""


class VehicleIn(RequestModel):
    license_plate: str = Field(min_length=7, max_length=10, examples=["ABC1D23"])
    brand: str = Field(min_length=1, max_length=40, examples=["Toyota"])
    model: str = Field(min_length=1, max_length=60, examples=["Corolla"])
    year: int = Field(ge=1950, le=2100, examples=[2022])
    category: VehicleCategory = Field(examples=["comfort"])


class DriverRegistration(RequestModel):
    full_name: str = Field(min_length=2, max_length=120, examples=["Diego Rocha"])
    cpf: str = Field(min_length=11, max_length=18, examples=["453.178.287-91"])
    cnh_number: str = Field(min_length=11, max_length=20, examples=["02650306461"])
    pix_key: str = Field(min_length=1, max_length=100, examples=["diego@laura.dev"])
    vehicle: VehicleIn


class VehicleOut(ApiModel):
    id: uuid.UUID
    license_plate: str
    brand: str
    model: str
    year: int
    category: VehicleCategory
    status: str


class DriverOut(ApiModel):
    id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    cpf: str
    cnh_number: str
    pix_key: str
    pix_key_type: str
    approval_status: ApprovalStatus
    rejection_reason: str | None
    reviewed_at: UtcDatetime | None
    online: bool
    status: Literal["available", "on_trip", "offline"]
    current_ride_id: uuid.UUID | None
    average_rating: Rating | None
    rating_count: int
    total_rides: int
    vehicle: VehicleOut | None
    created_at: UtcDatetime

    @classmethod
    def of(cls, driver: object, vehicle: object | None) -> DriverOut:
        """A driver row and its active vehicle as one profile."""
        fields = {name: getattr(driver, name) for name in cls.model_fields if name != "vehicle"}
        return cls.model_validate(
            {**fields, "vehicle": VehicleOut.model_validate(vehicle) if vehicle else None}
        )


class PassengerOut(ApiModel):
    id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    cpf: str | None
    average_rating: Rating | None
    rating_count: int
    total_rides: int
    created_at: UtcDatetime


class RejectDriverRequest(RequestModel):
    reason: str = Field(min_length=3, max_length=500, examples=["CNH photo unreadable"])


class PixKeyChange(RequestModel):
    pix_key: str = Field(min_length=1, max_length=100, examples=["diego@laura.dev"])


class DriverOnlineRequest(RequestModel):
    online: bool
