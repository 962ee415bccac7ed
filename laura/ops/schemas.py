"""Jobs on the wire."""

from __future__ import annotations

from typing import Any, Literal

from laura.core.schemas import ApiModel, UtcDatetime

JobStatus = Literal["todo", "doing", "succeeded", "failed", "cancelled", "aborted"]


class JobOut(ApiModel):
    id: int
    task_name: str
    queue: str
    status: str
    attempts: int
    args: dict[str, Any]
    """The job's arguments with secret-looking values replaced by "[redacted]"."""
    scheduled_at: UtcDatetime | None
    last_error: str | None
    last_error_at: UtcDatetime | None
