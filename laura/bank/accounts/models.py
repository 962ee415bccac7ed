"""The checking account row: the customer-facing agency/number of a ledger account."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk


class AccountStatus(StrEnum):
    """The one status money moves in; an account in any other is refused as not active."""

    ACTIVE = "ACTIVE"


class BankAccount(Base):
    __tablename__ = "bank_accounts"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    ledger_account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    agency: Mapped[str] = mapped_column(String(4), default="0001")
    number: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(8), default=AccountStatus.ACTIVE)
    created_at: Mapped[CreatedAt]
