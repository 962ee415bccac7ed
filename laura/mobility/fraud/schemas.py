"""The ops review's flags on the wire."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import Field

from laura.core.schemas import ApiModel, RequestModel, UtcDatetime


class FlagOut(ApiModel):
    id: uuid.UUID
    subject_user_id: uuid.UUID
    rule: str
    day: date
    ride_id: uuid.UUID | None
    details: dict[str, Any]
    status: str
    created_at: UtcDatetime
    resolved_at: UtcDatetime | None
    resolved_by: uuid.UUID | None
    resolution_note: str | None


class ResolveRequest(RequestModel):
    note: str = Field(min_length=1, max_length=1000, examples=["Checked with the driver: a phone GPS glitch"])
