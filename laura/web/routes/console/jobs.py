"""Background work for admins: jobs (failed ones first: they ran out of retries) re-queued with
`ops.service.retry_job`, as `POST /admin/jobs/{id}/retry` (audited), and the PSP's webhook deliveries as
stored, the refused ones marked. A delivery is not replayed from here: the Pix a lost or refused one carried
is settled by reconciliation, which reads it back from the PSP; "Reconcile now" queues a run at once
(`pix.service.reconcile_now`, audited) instead of waiting for the next scheduled one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laura.core.db import SessionDep
from laura.core.models import utcnow
from laura.ops import service as ops
from laura.ops.errors import JobNotFailed, JobNotFound
from laura.ops.models import JOB_STATUSES
from laura.pix import service as pix
from laura.web.i18n import N_
from laura.web.routes.console.access import ConsoleAdmin, ConsoleNotFound
from laura.web.routes.console.paging import paging, query_choice
from laura.web.routes.console.sections import console_page

router = APIRouter(include_in_schema=False)

DONE = {
    "retried": N_("The job is queued again; a worker runs it now."),
    "not_failed": N_("This job is not failed any more, so it was left alone."),
}
RECONCILE_DONE = {
    "reconcile": N_("A reconciliation run is queued: the PSP is asked now for what the webhooks carried."),
    "waiting": N_("A reconciliation run was already waiting; it will do the same."),
}
_JOB_ID_MAX = 2**63 - 1


@router.get("/ops/jobs", response_class=HTMLResponse)
async def jobs(request: Request, admin: ConsoleAdmin, session: SessionDep) -> Response:
    status = query_choice(request, "status", JOB_STATUSES + ("all",)) or "failed"
    at = paging(request)
    items, total, _ = await ops.list_jobs(
        session,
        status=None if status == "all" else status,
        task=None,
        offset=at.offset,
        limit=at.size,
        before_id=None,
    )
    return console_page(
        request,
        "console/jobs.html",
        jobs=items,
        total=total,
        status=status,
        statuses=JOB_STATUSES,
        at=at,
        pages=at.pages(total),
        done=DONE.get(request.query_params.get("done", "")),
    )


@router.post("/ops/jobs/{job_id}/retry", response_class=HTMLResponse)
async def retry(job_id: int, admin: ConsoleAdmin, session: SessionDep) -> Response:
    if not 1 <= job_id <= _JOB_ID_MAX:
        raise ConsoleNotFound()
    try:
        await ops.retry_job(session, job_id, actor_id=admin.id)
    except JobNotFound as error:
        raise ConsoleNotFound() from error
    except JobNotFailed:
        return RedirectResponse("/ops/jobs?done=not_failed", status_code=303)
    return RedirectResponse("/ops/jobs?done=retried", status_code=303)


@router.get("/ops/webhooks", response_class=HTMLResponse)
async def webhooks(request: Request, admin: ConsoleAdmin, session: SessionDep) -> Response:
    refused_only = request.query_params.get("refused") == "1"
    at = paging(request)
    rows, total = await pix.webhook_deliveries(
        session, refused_only=refused_only, offset=at.offset, limit=at.size
    )
    return console_page(
        request,
        "console/webhooks.html",
        deliveries=rows,
        total=total,
        refused_only=refused_only,
        at=at,
        pages=at.pages(total),
        done=RECONCILE_DONE.get(request.query_params.get("done", "")),
    )


@router.post("/ops/webhooks/reconcile", response_class=HTMLResponse)
async def reconcile(admin: ConsoleAdmin, session: SessionDep) -> Response:
    queued = await pix.reconcile_now(session, actor_id=admin.id, now=utcnow())
    return RedirectResponse(f"/ops/webhooks?done={'reconcile' if queued else 'waiting'}", status_code=303)
