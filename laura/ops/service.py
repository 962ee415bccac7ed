"""Failed jobs for admins: list them (arguments redacted) and re-queue one, audited."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.ops.errors import JobNotFailed, JobNotFound
from laura.ops.repository import JobRepository
from laura.ops.schemas import JobOut

REDACTED = "[redacted]"
_SECRET_NAMES = {"pan", "pin", "cvv", "cvc", "cpf", "cnpj"}
_SECRET_PARTS = ("password", "secret", "token", "cardnumber", "authorization", "apikey", "privatekey", "otp")


def _is_secret(key: str) -> bool:
    name = key.replace("_", "").replace("-", "").lower()
    return name in _SECRET_NAMES or any(part in name for part in _SECRET_PARTS)


def redact(value: Any) -> Any:
    """Job arguments should hold ids only; anything named like a secret is masked anyway, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _out(row: Any) -> JobOut:
    return JobOut(
        id=row.id,
        task_name=row.task_name,
        queue=row.queue_name,
        status=row.status,
        attempts=row.attempts,
        args=redact(row.args),
        scheduled_at=row.scheduled_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
    )


async def list_jobs(
    session: AsyncSession,
    *,
    status: str | None,
    task: str | None,
    offset: int,
    limit: int,
    before_id: int | None,
) -> tuple[list[JobOut], int, bool]:
    """Jobs newest first, optionally of one status (e.g. `failed`: retries exhausted) or task; the flag
    says whether older ones follow."""
    rows, total = await JobRepository(session).page(
        status=status, task=task, offset=offset, limit=limit + 1, before_id=before_id
    )
    return [_out(row) for row in rows[:limit]], total, len(rows) > limit


async def retry_job(session: AsyncSession, job_id: int, *, actor_id: uuid.UUID) -> JobOut:
    """Re-queue a failed job to run now; it commits with the audit row. The run counts as one more
    attempt, so a job that fails again goes straight back to `failed`."""
    repository = JobRepository(session)
    job = await repository.lock(job_id)
    if job is None:
        raise JobNotFound()
    if job.status != "failed":
        raise JobNotFailed(details={"status": job.status})
    await repository.requeue(job_id, queue=job.queue_name)
    audit.record(
        session,
        action="job.retried",
        resource_type="job",
        resource_id=str(job_id),
        old={"status": "failed", "attempts": job.attempts},
        new={"status": "todo"},
        actor_id=actor_id,
    )
    return _out(await repository.get(job_id))
