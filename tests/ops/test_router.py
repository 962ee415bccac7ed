"""`/admin/jobs`: a job that exhausted its retries stays visible as failed, and an admin re-queues it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import Retry, defer, job_task
from tests.helpers import auth_headers, staff_headers
from tests.jobs_support import job_status, running_worker


@job_task(name="tests.ops.flaky", retry=Retry(max_attempts=1, backoff_seconds=0.05))
async def flaky(session: AsyncSession, *, transfer_id: str) -> None:
    """Fails until the switch row exists (an outage an admin waits out before retrying)."""
    if not await session.scalar(text("SELECT count(*) FROM job_switch")):
        raise ConnectionError(f"PSP down while settling {transfer_id}")
    await session.execute(text("INSERT INTO job_done (transfer_id) VALUES (:id)"), {"id": transfer_id})


@pytest.fixture
async def db(app):
    async with app.state.db.unit_of_work() as session:
        await session.execute(text("CREATE TABLE job_switch (on_at timestamptz)"))
        await session.execute(text("CREATE TABLE job_done (transfer_id text PRIMARY KEY)"))
    return app.state.db


@pytest.fixture
async def admin(app, client) -> dict:
    return await staff_headers(app, client, role="admin")


async def _defer(db, task, **args) -> int:
    async with db.unit_of_work() as session:
        return await defer(session, task, args=args)


async def _failed_job(db, settings) -> int:
    job_id = await _defer(db, flaky, transfer_id="trf-1")
    async with running_worker(settings) as worker:
        await worker.until(lambda: _has_status(db, job_id, "failed"))
    return job_id


async def _has_status(db, job_id: int, status: str) -> bool:
    return await job_status(db, job_id) == status


async def test_job_out_of_retries_is_listed_as_failed_with_its_last_error(db, settings, client, admin):
    job_id = await _failed_job(db, settings)
    waiting_id = await _defer(db, flaky, transfer_id="trf-2")

    response = await client.get("/admin/jobs", params={"status": "failed"}, headers=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pagination"] == {
        "page": 1,
        "limit": 20,
        "total": 1,
        "totalPages": 1,
        "hasMore": False,
        "nextCursor": None,
    }
    [job] = body["data"]
    assert job["id"] == job_id != waiting_id
    assert job["taskName"] == "tests.ops.flaky"
    assert job["queue"] == "default"
    assert job["status"] == "failed"
    assert job["attempts"] == 2
    assert job["args"] == {"transfer_id": "trf-1"}
    assert job["lastError"] == "ConnectionError: PSP down while settling trf-1"
    assert job["lastErrorAt"].endswith("Z")
    assert job["scheduledAt"].endswith("Z")


async def test_retry_requeues_a_failed_job_and_a_worker_runs_it(db, settings, client, admin):
    job_id = await _failed_job(db, settings)
    async with db.unit_of_work() as session:
        await session.execute(text("INSERT INTO job_switch VALUES (now())"))

    response = await client.post(f"/admin/jobs/{job_id}/retry", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "todo"
    async with running_worker(settings) as worker:
        await worker.until(lambda: _has_status(db, job_id, "succeeded"))
    async with db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM job_done WHERE transfer_id = 'trf-1'")) == 1
        assert (
            await conn.scalar(
                text("SELECT count(*) FROM procrastinate_events WHERE job_id = :id AND type = 'retried'"),
                {"id": job_id},
            )
            == 1
        )
        audit = (
            await conn.execute(
                text(
                    "SELECT action, old_values, new_values FROM audit_logs WHERE resource_type = 'job'"
                    " AND resource_id = :id"
                ),
                {"id": str(job_id)},
            )
        ).one()
    assert audit.action == "job.retried"
    assert audit.old_values["status"] == "failed" and audit.new_values == {"status": "todo"}
    failed = (await client.get("/admin/jobs", params={"status": "failed"}, headers=admin)).json()
    assert failed["data"] == []


async def test_retry_of_an_unknown_job_is_404_and_of_a_waiting_job_is_409(db, client, admin):
    missing = await client.post("/admin/jobs/987654321/retry", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"] == "JOB_NOT_FOUND"

    waiting_id = await _defer(db, flaky, transfer_id="trf-3")
    conflict = await client.post(f"/admin/jobs/{waiting_id}/retry", headers=admin)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "JOB_NOT_FAILED"
    assert await job_status(db, waiting_id) == "todo"


async def test_arguments_named_like_secrets_are_redacted(db, client, admin):
    await _defer(
        db,
        flaky,
        transfer_id="trf-4",
        password="hunter2",
        card={"cvv": "123", "last4": "4242"},
        access_token="abc",
    )

    [job] = (await client.get("/admin/jobs", headers=admin)).json()["data"]

    assert job["args"] == {
        "transfer_id": "trf-4",
        "password": "[redacted]",
        "card": {"cvv": "[redacted]", "last4": "4242"},
        "access_token": "[redacted]",
    }


async def test_list_pages_by_offset_and_by_cursor(db, client, admin):
    ids = [await _defer(db, flaky, transfer_id=f"trf-{n}") for n in range(5)]

    first = (await client.get("/admin/jobs", params={"limit": 2}, headers=admin)).json()
    assert [j["id"] for j in first["data"]] == ids[::-1][:2]
    assert first["pagination"]["total"] == 5 and first["pagination"]["hasMore"] is True
    second = (
        await client.get(
            "/admin/jobs", params={"limit": 2, "cursor": first["pagination"]["nextCursor"]}, headers=admin
        )
    ).json()
    assert [j["id"] for j in second["data"]] == ids[::-1][2:4]
    third = (await client.get("/admin/jobs", params={"limit": 2, "page": 3}, headers=admin)).json()
    assert [j["id"] for j in third["data"]] == [ids[0]]
    assert third["pagination"]["hasMore"] is False


async def test_only_admins_see_jobs(client):
    _, customer = await auth_headers(client)
    assert (await client.get("/admin/jobs", headers=customer)).status_code == 403
    assert (await client.get("/admin/jobs")).status_code == 401
    assert (await client.post("/admin/jobs/1/retry", headers=customer)).status_code == 403


async def test_unknown_status_filter_is_422(client, admin):
    response = await client.get("/admin/jobs", params={"status": "exploded"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["error"] == "VALIDATION_ERROR"


async def test_metrics_report_the_queue_depth(db, client):
    for n in range(3):
        await _defer(db, flaky, transfer_id=f"trf-{n}")

    metrics = (await client.get("/metrics")).text

    assert 'jobs_queue_depth{queue="default",status="todo"} 3.0' in metrics
