"""A driver's location report on the wire."""

from __future__ import annotations

import uuid

from pydantic import Field, model_validator

from laura.core.schemas import ApiModel, RequestModel, UtcDatetime


class LocationRequest(RequestModel):
    lat: float = Field(ge=-90, le=90, examples=[-23.5614])
    lon: float = Field(ge=-180, le=180, examples=[-46.6559])
    heading: float | None = Field(default=None, ge=0, lt=360)
    speed: float | None = Field(default=None, ge=0, le=100, description="metres per second")
    accuracy: float | None = Field(default=None, ge=0, le=10000, description="metres")
    recorded_at: UtcDatetime

    @model_validator(mode="after")
    def _not_null_island(self) -> LocationRequest:
        if self.lat == 0 and self.lon == 0:
            raise ValueError("(0, 0) is not a valid position")
        if self.recorded_at.tzinfo is None:
            raise ValueError("recordedAt needs a time zone (e.g. Z)")
        return self


class LocationOut(ApiModel):
    driver_id: uuid.UUID
    lat: float
    lon: float
    recorded_at: UtcDatetime
    current: bool
    ride_id: uuid.UUID | None
