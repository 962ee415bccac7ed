"""Refusals of the ops endpoints."""

from __future__ import annotations

from laura.core.errors import Conflict, NotFound


class JobNotFound(NotFound):
    error = "JOB_NOT_FOUND"
    code = "JOB_001"
    message = "Job not found"


class JobNotFailed(Conflict):
    error = "JOB_NOT_FAILED"
    code = "JOB_002"
    message = "Only a failed job can be retried"
