"""The file store and the upload limit, from the app's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from laura.core.files import FileStore


@dataclass(frozen=True)
class Uploads:
    store: FileStore
    max_bytes: int


async def _uploads(request: Request) -> Uploads:
    settings = request.app.state.settings
    return Uploads(store=FileStore(settings.data_dir / "files"), max_bytes=settings.files_max_bytes)


UploadsDep = Annotated[Uploads, Depends(_uploads)]
