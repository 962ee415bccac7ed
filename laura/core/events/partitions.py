"""The months of the `outbox` (one partition each, migration 0039): created ahead, so an event always finds
its month, and dropped whole once every row in them is past `LAURA_EVENTS_RETENTION_DAYS`, which costs
nothing where deleting the rows would leave a month of dead tuples to vacuum. The relay still deletes
published rows day by day (`outbox.prune`); a month still holding an unpublished event is kept. The SQL
is laura/core/sql/monthly_partitions.sql."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

AHEAD_MONTHS = 3
"""Months of partitions kept ready past the current one (the default partition catches anything else)."""


async def maintain(session: AsyncSession, *, now: datetime, retention_days: int) -> dict[str, object]:
    """Partitions up to `AHEAD_MONTHS` ahead exist; months wholly older than the retention are dropped."""
    created = await session.scalar(
        text(
            "SELECT partitions_ensure_monthly('outbox', CAST(:now AS timestamptz),"
            " CAST(:now AS timestamptz) + make_interval(months => :ahead))"
        ),
        {"now": now, "ahead": AHEAD_MONTHS},
    )
    dropped = await session.scalars(
        text("SELECT partitions_retire_monthly('outbox', :before, NULL, 'published_at IS NULL')"),
        {"before": now.astimezone(UTC) - timedelta(days=retention_days)},
    )
    return {"created": int(created or 0), "dropped": list(dropped)}
