"""A Pix key registered to a customer's account (table `pix_keys`, migration 0007)."""

from __future__ import annotations

import uuid

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk


class PixKeyEntry(Base):
    __tablename__ = "pix_keys"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    type: Mapped[str] = mapped_column(String(5))
    key: Mapped[str] = mapped_column(String(77), unique=True)
    created_at: Mapped[CreatedAt]
