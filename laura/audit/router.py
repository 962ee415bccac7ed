"""`GET /audit/logs` for admins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from laura.audit import service
from laura.audit.schemas import AuditLogOut
from laura.core.db import ReadSessionDep
from laura.core.pagination import Page, PageDep
from laura.identity.deps import AdminUser

router = APIRouter(tags=["audit"])


@router.get("/audit/logs", response_model=Page[AuditLogOut])
async def list_audit_logs(
    _: AdminUser,
    session: ReadSessionDep,
    page: PageDep,
    actor_id: Annotated[uuid.UUID | None, Query(alias="actorId")] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    resource_type: Annotated[str | None, Query(alias="resourceType", max_length=64)] = None,
    resource_id: Annotated[str | None, Query(alias="resourceId", max_length=128)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
) -> Page[AuditLogOut]:
    """Search the audit trail, newest first."""
    rows, total = await service.search(
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
