"""The audit trail for admins: searched as `GET /audit/logs` searches it (`audit.service.search`), and its
hash chain verified on demand (`audit.service.verify_chain`, the check `laura audit verify` runs), so a
tampered row is named by its id."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from laura.audit import service as audit
from laura.audit.schemas import AuditLogOut
from laura.core.replica import ReplicaSessionDep
from laura.web.routes.console.access import ConsoleAdmin
from laura.web.routes.console.paging import paging
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)
_FILTERS = ("action", "resource_type", "resource_id", "actor_id")


def _filters(request: Request) -> dict[str, str]:
    values = {name: request.query_params.get(name, "").strip()[:128] for name in _FILTERS}
    return {name: value for name, value in values.items() if value}


def _actor(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@router.get("/ops/audit", response_class=HTMLResponse)
async def audit_log(request: Request, admin: ConsoleAdmin, session: ReplicaSessionDep) -> Response:
    values = _filters(request)
    at = paging(request)
    rows, total = await audit.search(
        session,
        actor_id=_actor(values.get("actor_id")),
        action=values.get("action"),
        resource_type=values.get("resource_type"),
        resource_id=values.get("resource_id"),
        since=None,
        until=None,
        offset=at.offset,
        limit=at.size,
    )
    chain = await audit.verify_chain(session) if request.query_params.get("verify") == "1" else None
    extra = f"&{urlencode(values)}" if values else ""
    return console_page(
        request,
        "console/audit.html",
        rows=[AuditLogOut.model_validate(row) for row in rows],
        total=total,
        values=values,
        chain=chain,
        at=at,
        pages=at.pages(total),
        extra=extra,
    )
