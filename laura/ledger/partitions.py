"""The months of `ledger_entries` (one partition each, migration 0039): created ahead, so an entry always
finds its month, and archived after `LAURA_LEDGER_ARCHIVE_AFTER_MONTHS`: detached and attached to
`archive.ledger_entries`, where they stay append-only and `verify` still reads them (financial records are
never dropped). The SQL is laura/core/sql/monthly_partitions.sql."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

AHEAD_MONTHS = 3
"""Months of partitions kept ready past the current one (the default partition catches anything else)."""


@dataclass(frozen=True)
class Maintenance:
    created: int
    """Month partitions created."""
    archived: list[str]
    """Month partitions moved to the archive, oldest first."""


def month_start(at: datetime, months_back: int = 0) -> datetime:
    """The first instant (UTC) of the month `months_back` months before `at`'s."""
    index = at.astimezone(UTC).year * 12 + at.astimezone(UTC).month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


async def ensure_months(session: AsyncSession, first: datetime, last: datetime) -> int:
    """Create the missing month partitions from `first`'s month to `last`'s; how many were created."""
    created = await session.scalar(
        text("SELECT partitions_ensure_monthly('ledger_entries', :first, :last)"),
        {"first": first, "last": last},
    )
    return int(created or 0)


async def archive_months_before(session: AsyncSession, before: datetime) -> list[str]:
    """Move every month partition that ends by `before` to the archive; their names, oldest first."""
    rows = await session.scalars(
        text("SELECT partitions_retire_monthly('ledger_entries', :before, 'archive.ledger_entries', NULL)"),
        {"before": before},
    )
    return list(rows)


async def maintain(session: AsyncSession, *, now: datetime, archive_after_months: int | None) -> Maintenance:
    """Partitions from this month to `AHEAD_MONTHS` ahead exist; months past the archive horizon (the
    current month and `archive_after_months` full months before it stay) are archived."""
    created = await ensure_months(session, month_start(now), month_start(now, -AHEAD_MONTHS))
    archived: list[str] = []
    if archive_after_months is not None:
        archived = await archive_months_before(session, month_start(now, archive_after_months))
    return Maintenance(created=created, archived=archived)
