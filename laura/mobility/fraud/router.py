"""`GET /admin/fraud/flags` and `POST /admin/fraud/flags/{id}/resolve`: the rules' review items for ops."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from laura.core.db import SessionDep
from laura.core.models import utcnow
from laura.core.pagination import Page, PageDep
from laura.identity.deps import AdminUser
from laura.mobility.fraud import service
from laura.mobility.fraud.errors import FlagAlreadyResolved, FlagNotFound
from laura.mobility.fraud.models import FlagStatus, Rule
from laura.mobility.fraud.schemas import FlagOut, ResolveRequest

router = APIRouter(tags=["admin"])


@router.get("/admin/fraud/flags", response_model=Page[FlagOut])
async def list_flags(
    _: AdminUser,
    session: SessionDep,
    page: PageDep,
    status: FlagStatus | None = None,
    rule: Rule | None = None,
) -> Page[FlagOut]:
    """The anti-fraud review items, newest first (filter by `status`, `rule`)."""
    flags, total = await service.list_flags(
        session,
        status=status.value if status else None,
        rule=rule.value if rule else None,
        offset=page.offset,
        limit=page.limit,
    )
    return Page[FlagOut].build([FlagOut.model_validate(f) for f in flags], page, total)


@router.post(
    "/admin/fraud/flags/{flag_id}/resolve",
    response_model=FlagOut,
    responses={
        404: {"description": FlagNotFound.message},
        409: {"description": FlagAlreadyResolved.message},
    },
)
async def resolve_flag(
    flag_id: uuid.UUID, body: ResolveRequest, admin: AdminUser, session: SessionDep
) -> FlagOut:
    """Close a review item with a note; resolving a suspension's flag lifts the suspension."""
    flag = await service.resolve_flag(
        session, flag_id=flag_id, admin_id=admin.id, note=body.note, now=utcnow()
    )
    return FlagOut.model_validate(flag)
