"""Wire shape of an uploaded file."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BeforeValidator

from laura.core.schemas import ApiModel
from laura.core.text import refuse_nul

FileId = Annotated[uuid.UUID, BeforeValidator(refuse_nul)]
"""A file id in a request's list (`attachments`): a NUL is refused as such, as in every request text."""


class FileOut(ApiModel):
    id: uuid.UUID
    name: str
    size: int
    content_type: str
