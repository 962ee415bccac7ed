"""The ops review's flags on the wire."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import Field

from laura.core.schemas import ApiModel, RequestModel, UtcDatetime
from laura.mobility.fraud.models import Decision


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
    decision: Decision | None = None
    """How the review closed it: cleared (no fraud) or confirmed."""


class FlagWithTrustOut(FlagOut):
    subject_trust_score: int
    """The flagged user's trust score now, 0..100 (see GET /admin/fraud/users/{userId})."""


class ResolveRequest(RequestModel):
    note: str = Field(min_length=1, max_length=1000, examples=["Checked with the driver: a phone GPS glitch"])
    decision: Decision = Decision.CLEARED
    """cleared (default): no fraud, a held share becomes available; confirmed: the held share is posted to
    REPASSES_EM_REVISAO (2110) and weighs twice in the trust score."""


class TrustSignalsOut(ApiModel):
    open_flags_by_rule: dict[str, int]
    confirmed_flags_by_rule: dict[str, int]
    refused_movements_24h: int = Field(alias="refusedMovements24h")
    cancellations_24h: int = Field(alias="cancellations24h")
    suspended: bool


class UserTrustOut(ApiModel):
    user_id: uuid.UUID
    trust_score: int
    open_flags: int
    signals: TrustSignalsOut
