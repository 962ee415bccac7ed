"""`GET /admin/fraud/flags`, `POST /admin/fraud/flags/{id}/resolve` and `GET /admin/fraud/users/{userId}`:
the rules' review items and a user's trust score, for ops."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from laura.core.db import SessionDep
from laura.core.models import utcnow
from laura.core.pagination import Page, PageDep
from laura.identity.deps import AdminUser
from laura.identity.errors import UserNotFound
from laura.mobility.fraud import service
from laura.mobility.fraud.errors import FlagAlreadyResolved, FlagNotFound
from laura.mobility.fraud.models import FlagStatus, Rule
from laura.mobility.fraud.schemas import (
    FlagOut,
    FlagWithTrustOut,
    ResolveRequest,
    TrustSignalsOut,
    UserTrustOut,
)

router = APIRouter(tags=["admin"])


@router.get("/admin/fraud/flags", response_model=Page[FlagWithTrustOut])
async def list_flags(
    _: AdminUser,
    session: SessionDep,
    page: PageDep,
    status: FlagStatus | None = None,
    rule: Rule | None = None,
) -> Page[FlagWithTrustOut]:
    """The anti-fraud review items, newest first (filter by `status`, `rule`), each with its subject's
    trust score."""
    flags, total = await service.list_flags(
        session,
        status=status.value if status else None,
        rule=rule.value if rule else None,
        offset=page.offset,
        limit=page.limit,
        now=utcnow(),
    )
    data = [
        FlagWithTrustOut.model_validate(
            {**FlagOut.model_validate(f).model_dump(), "subject_trust_score": score}
        )
        for f, score in flags
    ]
    return Page[FlagWithTrustOut].build(data, page, total)


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
    """Close a review item with a note and a decision (cleared by default, or confirmed): resolving a
    suspension's flag lifts the suspension; a ride's held share is released (cleared) or kept (confirmed)."""
    flag = await service.resolve_flag(
        session, flag_id=flag_id, admin_id=admin.id, note=body.note, decision=body.decision, now=utcnow()
    )
    return FlagOut.model_validate(flag)


@router.get(
    "/admin/fraud/users/{user_id}",
    response_model=UserTrustOut,
    responses={404: {"description": UserNotFound.message}},
)
async def user_trust(user_id: uuid.UUID, _: AdminUser, session: SessionDep) -> UserTrustOut:
    """A user's trust score (0..100) and the signals it comes from (weights: laura/mobility/fraud/trust.py)."""
    trust = await service.user_trust(session, user_id, now=utcnow())
    signals = trust.signals
    return UserTrustOut(
        user_id=trust.user_id,
        trust_score=trust.score,
        open_flags=sum(signals.open_flags.values()),
        signals=TrustSignalsOut(
            open_flags_by_rule=dict(signals.open_flags),
            confirmed_flags_by_rule=dict(signals.confirmed_flags),
            refused_movements_24h=signals.refused_movements_24h,
            cancellations_24h=signals.cancellations_24h,
            suspended=signals.suspended,
        ),
    )
