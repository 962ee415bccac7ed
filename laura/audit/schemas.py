"""Audit rows on the wire."""

from __future__ import annotations

import uuid
from typing import Any

from laura.core.schemas import ApiModel, UtcDatetime


class AuditLogOut(ApiModel):
    id: int
    occurred_at: UtcDatetime
    actor_id: uuid.UUID | None
    action: str
    resource_type: str
    resource_id: str | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    hash: str
