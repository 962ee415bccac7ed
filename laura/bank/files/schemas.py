"""Wire shape of an uploaded file."""

from __future__ import annotations

import uuid

from laura.core.schemas import ApiModel


class FileOut(ApiModel):
    id: uuid.UUID
    name: str
    size: int
    content_type: str
