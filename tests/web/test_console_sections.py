"""The console's other sections over HTTP: rides, jobs (a failed one run again), webhooks, the audit log and
its chain check, fraud flags (resolved through the confirmation page), the finance report and its CSV, and
the support desk (take, reply, move) for staff, who see no admin section."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import Retry, defer, job_task
from laura.mobility.fraud import service as fraud
from laura.mobility.fraud.models import Rule
from laura.mobility.fraud.policy import FraudPolicy
from tests.helpers import auth_headers
from tests.jobs_support import job_status, running_worker
from tests.mobility.support import accept, driver, passenger, request_ride
from tests.mobility.support import admin as admin_headers
from tests.web.support import browser, csrf, form_post, sign_in
from tests.web.test_console import console_user


@job_task(name="tests.web.console.broken", retry=Retry(max_attempts=1, backoff_seconds=0.05))
async def broken(session: AsyncSession, *, n: int) -> None:
    raise ConnectionError("PSP down")


async def test_every_admin_section_renders_and_staff_see_none_of_them(app) -> None:
    pages = ("/ops/rides", "/ops/rides/live", "/ops/jobs?status=all", "/ops/webhooks?refused=1")
    pages += (
        "/ops/audit?action=DRIVER_APPROVED&page=x",
        "/ops/fraud?status=all",
        "/ops/finance?groupBy=week",
    )
    async with browser(app) as http:
        await sign_in(http, await console_user(app, "admin"))
        for path in pages:
            response = await http.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            assert "Traceback" not in response.text
    async with browser(app) as http:
        await sign_in(http, await console_user(app, "staff"))
        for path in pages:
            assert (await http.get(path)).status_code == 404, path
        assert (await http.get("/ops/support")).status_code == 200


async def test_a_failed_job_runs_again_from_the_console(app, settings) -> None:
    async with app.state.db.unit_of_work() as session:
        job_id = await defer(session, broken, args={"n": 1})
    async with running_worker(settings) as worker:
        await worker.until(lambda: _is(app, job_id, "failed"))
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        listed = await http.get("/ops/jobs")
        assert f"/ops/jobs/{job_id}/retry" in listed.text and "PSP down" in listed.text
        token = csrf(listed.text)
        retried = await http.post(f"/ops/jobs/{job_id}/retry", data={"csrftoken": token})
        assert retried.headers["location"] == "/ops/jobs?done=retried"
        assert await job_status(app.state.db, job_id) == "todo"
        again = await http.post(f"/ops/jobs/{job_id}/retry", data={"csrftoken": token})
        assert again.headers["location"] == "/ops/jobs?done=not_failed"
        assert (await http.post("/ops/jobs/999999999/retry", data={"csrftoken": token})).status_code == 404
        audit = await http.get("/ops/audit?action=job.retried&verify=1")
        assert f"<code>{job_id}</code>" in audit.text
        assert 'data-testid="chain">A cadeia está íntegra' in audit.text


async def _is(app, job_id: int, status: str) -> bool:
    return await job_status(app.state.db, job_id) == status


async def test_a_fraud_flag_is_resolved_through_its_confirmation_page(app, client) -> None:
    admin = await admin_headers(app, client)
    suspect, _ = await auth_headers(client, user_type="driver")
    async with app.state.db.unit_of_work() as session:
        flag_id = await fraud.raise_flag(
            session,
            FraudPolicy(),
            user_id=uuid.UUID(suspect["id"]),
            rule=Rule.IMPOSSIBLE_MOVEMENT,
            now=datetime.now(UTC),
            details={"refusals24h": 3},
        )
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        listed = await http.get("/ops/fraud")
        assert f"/ops/fraud/{flag_id}" in listed.text
        empty = await form_post(http, f"/ops/fraud/{flag_id}", f"/ops/fraud/{flag_id}", {"note": ""})
        assert empty.status_code == 422 and 'id="note-error"' in empty.text
        done = await form_post(
            http,
            f"/ops/fraud/{flag_id}",
            f"/ops/fraud/{flag_id}",
            {"note": "GPS glitch", "decision": "cleared"},
        )
        assert done.headers["location"] == "/ops/fraud?done=cleared"
        twice = await form_post(http, "/ops/fraud", f"/ops/fraud/{flag_id}", {"note": "again"})
        assert twice.headers["location"] == "/ops/fraud?done=resolved"
        assert (await http.get(f"/ops/fraud/{uuid.uuid4()}")).status_code == 404
    flags = await client.get("/admin/fraud/flags", params={"status": "RESOLVED"}, headers=admin)
    (flag,) = [f for f in flags.json()["data"] if f["id"] == str(flag_id)]
    assert flag["decision"] == "cleared" and flag["resolutionNote"] == "GPS glitch"


async def test_the_finance_report_page_and_its_csv(app) -> None:
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        page = await http.get("/ops/finance?from=2026-11-01&to=2026-11-30&groupBy=week")
        assert page.status_code == 200 and 'data-testid="gross">R$\xa00,00<' in page.text
        assert "/ops/finance/report.csv?from=2026-11-01&amp;to=2026-11-30&amp;groupBy=week" in page.text
        csv = await http.get("/ops/finance/report.csv?from=2026-11-01&to=2026-11-30&groupBy=week")
        assert csv.headers["content-type"].startswith("text/csv")
        assert "financials-2026-11-01-2026-11-30-week.csv" in csv.headers["content-disposition"]
        bad = await http.get("/ops/finance?from=2026-12-01&to=2026-11-01")
        assert bad.status_code == 422 and 'id="to-error"' in bad.text
        typo = await http.get("/ops/finance?from=yesterday")
        assert typo.status_code == 422 and 'id="from-error"' in typo.text


async def test_staff_take_a_ticket_reply_and_resolve_it(app, client) -> None:
    customer, headers = await auth_headers(client)
    body = {"category": "CARD", "priority": "HIGH", "subject": "Cartão recusado", "description": "No mercado"}
    created = await client.post("/api/support/tickets", json=body, headers=headers)
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    async with browser(app) as http:
        await sign_in(http, await console_user(app, "staff"))
        queue = await http.get("/ops/support")
        assert f"/ops/support/{ticket_id}" in queue.text and "Cartão recusado" in queue.text
        page = f"/ops/support/{ticket_id}"
        assigned = await form_post(http, page, f"{page}/assign", {})
        assert assigned.headers["location"] == f"{page}?done=assigned"
        assert f"/ops/support/{ticket_id}" in (await http.get("/ops/support?mine=1")).text
        empty = await form_post(http, page, f"{page}/reply", {"message": " "})
        assert empty.status_code == 422 and 'id="message-error"' in empty.text
        replied = await form_post(http, page, f"{page}/reply", {"message": "Já desbloqueamos."})
        assert replied.headers["location"] == f"{page}?done=replied"
        resolved = await form_post(http, page, f"{page}/status", {"status": "RESOLVED"})
        assert resolved.status_code == 303
        closed = await form_post(http, page, f"{page}/status", {"status": "CLOSED"})
        assert closed.status_code == 303
        refused = await form_post(http, page, f"{page}/reply", {"message": "mais uma"})
        assert refused.status_code == 409 and "Este chamado está fechado" in refused.text
    ticket = (await client.get(f"/api/support/tickets/{ticket_id}", headers=headers)).json()
    assert ticket["status"] == "CLOSED"
    assert [(m["authorType"], m["message"]) for m in ticket["messages"]] == [("STAFF", "Já desbloqueamos.")]
    async with browser(app) as http:
        await sign_in(http, customer["email"])
        assert (await http.get(f"/ops/support/{ticket_id}")).status_code == 404


async def test_a_reconciliation_is_queued_from_the_webhooks_page_once(app) -> None:
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        page = "/ops/webhooks"
        queued = await form_post(http, page, f"{page}/reconcile", {})
        assert queued.headers["location"] == f"{page}?done=reconcile"
        waiting = await form_post(http, page, f"{page}/reconcile", {})
        assert waiting.headers["location"] == f"{page}?done=waiting"  # a run is waiting already
        assert "A conciliação já estava na fila" in (await http.get(waiting.headers["location"])).text
        audit = await http.get("/ops/audit?action=pix.reconcile.requested")
        assert audit.text.count('data-testid="audit-row"') == 1
    async with app.state.db.engine.connect() as conn:
        jobs = await conn.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'pix.reconcile' AND status = 'todo'"
            )
        )
    assert jobs == 1


async def test_a_ride_in_progress_is_on_the_live_list_and_in_todays_figures(app, client) -> None:
    admin = await admin_headers(app, client)
    handle = await driver(client, admin)
    _, rider = await passenger(client)
    asked = await request_ride(client, rider)
    assert asked.status_code == 201, asked.text
    ride_id = asked.json()["id"]
    assert (await accept(client, handle, ride_id)).status_code == 200
    async with browser(app) as http:
        await sign_in(http, await console_user(app))
        live = await http.get("/ops/rides/live")
        assert f"<code>{ride_id}</code>" in live.text and "Aceita" in live.text and "Diego Rocha" in live.text
        page = await http.get("/ops/rides")
        assert 'data-testid="stats-today">\n    <div><dt>Corridas</dt><dd>1</dd>' in page.text
        assert 'hx-get="/ops/rides/live"' in page.text
