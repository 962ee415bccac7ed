"""An uploaded file (migration 0026): who sent it, under which name, and what its content is."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk
from laura.identity import models as _identity  # noqa: F401 - users, which files reference


class StoredFile(Base):
    __tablename__ = "files"

    id: Mapped[UUIDPk]
    owner_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    """Names the bytes in the store (`laura.core.files.FileStore`); uploads of one content share them."""
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    """Sniffed from the content, never the client's word."""
    created_at: Mapped[CreatedAt]
