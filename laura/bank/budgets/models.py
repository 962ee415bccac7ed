"""Budgets and the alerts they sent (migration 0025)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk, utcnow
from laura.identity import models as _identity  # noqa: F401 - users, which budgets reference

LIVE_INDEX = "budgets_live_category_period"
"""The partial unique index: one budget not deleted per customer, category and period."""


class Budget(Base):
    __tablename__ = "budgets"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(20))
    limit_cents: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[str] = mapped_column(String(10))
    alert_thresholds: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class BudgetAlert(Base):
    """One alert sent: at most one per budget, period (its first day) and threshold."""

    __tablename__ = "budget_alerts"

    budget_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("budgets.id"), primary_key=True
    )
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer, primary_key=True)
    spent_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[CreatedAt]
