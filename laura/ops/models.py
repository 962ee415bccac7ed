"""The job tables as Procrastinate and migration 0003 define them, for queries only (not part of `Base`:
the schema belongs to Procrastinate)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import ENUM, JSONB

metadata = MetaData()

JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")

jobs = Table(
    "procrastinate_jobs",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("queue_name", String(128)),
    Column("task_name", String(128)),
    Column("priority", Integer),
    Column("status", ENUM(*JOB_STATUSES, name="procrastinate_job_status", create_type=False)),
    Column("attempts", Integer),
    Column("args", JSONB),
    Column("scheduled_at", DateTime(timezone=True)),
)

job_errors = Table(
    "job_errors",
    metadata,
    Column("job_id", BigInteger, primary_key=True),
    Column("attempt", Integer),
    Column("error", Text),
    Column("occurred_at", DateTime(timezone=True)),
)
