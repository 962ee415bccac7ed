"""Admin operations: `/admin/jobs` (background jobs and the manual retry of a failed one) and
`/audit/logs` (the audit trail, searched here so that audit, which identity writes to, needs no identity)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from laura.audit import service as audit
from laura.audit.schemas import AuditLogOut
from laura.core.db import SessionDep
from laura.core.errors import AppError, ValidationFailed
from laura.core.idempotency import idempotent
from laura.core.pagination import Page, PageDep, decode_cursor, encode_cursor
from laura.core.replica import ReplicaSessionDep
from laura.identity.deps import AdminUser
from laura.ops import service
from laura.ops.errors import JobNotFailed, JobNotFound
from laura.ops.schemas import JobOut, JobStatus

router = APIRouter(tags=["jobs"])
audit_router = APIRouter(tags=["audit"])

JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    return {e.status: {"description": e.message} for e in errors}


def _cursor_id(cursor: str) -> int:
    decoded = decode_cursor(cursor)
    value = decoded.get("id") if isinstance(decoded, dict) else None
    if not isinstance(value, int):
        raise ValidationFailed("Invalid cursor", details=[{"field": "cursor", "message": "malformed"}])
    return value


@router.get("/admin/jobs", response_model=Page[JobOut])
async def list_jobs(
    _: AdminUser,
    session: SessionDep,
    page: PageDep,
    status: Annotated[JobStatus | None, Query()] = None,
    task: Annotated[str | None, Query(max_length=128)] = None,
) -> Page[JobOut]:
    """Background jobs, newest first; `?status=failed` shows the ones that ran out of retries. Read on
    the primary: an operator retries from this list, and must see the state the retry will find."""
    before_id = _cursor_id(page.cursor) if page.cursor else None
    items, total, more = await service.list_jobs(
        session, status=status, task=task, offset=page.offset, limit=page.limit, before_id=before_id
    )
    next_cursor = encode_cursor({"id": items[-1].id}) if more else None
    return Page[JobOut].build(items, page, total, next_cursor)


@router.post(
    "/admin/jobs/{job_id}/retry", response_model=JobOut, responses=_responses(JobNotFound, JobNotFailed)
)
@idempotent()
async def retry_job(job_id: JobId, admin: AdminUser, session: SessionDep) -> JobOut:
    """Re-queue a failed job; a worker picks it up at once."""
    return await service.retry_job(session, job_id, actor_id=admin.id)


@audit_router.get("/audit/logs", response_model=Page[AuditLogOut])
async def list_audit_logs(
    _: AdminUser,
    session: ReplicaSessionDep,
    page: PageDep,
    actor_id: Annotated[uuid.UUID | None, Query(alias="actorId")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    resource_type: Annotated[str | None, Query(alias="resourceType", max_length=64)] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId", max_length=128)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> Page[AuditLogOut]:
    """Search the audit trail, newest first."""
    rows, total = await audit.search(
        session,
        actor_id=actor_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        since=since,
        until=until,
        offset=page.offset,
        limit=page.limit,
    )
    return Page[AuditLogOut].build([AuditLogOut.model_validate(r) for r in rows], page, total)
