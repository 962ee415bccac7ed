"""Uploads over HTTP: `POST /api/files` (multipart, field `file`) and `GET /api/files/{id}`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile, status
from fastapi.responses import FileResponse

from laura.bank.files import service
from laura.bank.files.deps import UploadsDep
from laura.bank.files.schemas import FileOut
from laura.core.db import SessionDep
from laura.identity.deps import CurrentUser

router = APIRouter(prefix="/api/files", tags=["files"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "FILE_NOT_FOUND (another customer's file too)"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    responses={
        413: {"description": "FILE_TOO_LARGE (over `LAURA_FILES_MAX_BYTES`)"},
        415: {"description": "UNSUPPORTED_FILE_TYPE: the content is not PNG, JPEG, PDF or text"},
    },
)
async def upload(
    file: Annotated[UploadFile, File(description="PNG, JPEG, PDF or UTF-8 text, sniffed from the content")],
    user: CurrentUser,
    session: SessionDep,
    uploads: UploadsDep,
) -> FileOut:
    """Keep a file to attach to support tickets; its type is what its bytes are, not its name."""
    stored = await service.upload(
        session, uploads.store, user.id, name=file.filename, read=file.read, limit=uploads.max_bytes
    )
    return FileOut.model_validate(stored)


@router.get(
    "/{file_id}",
    response_class=FileResponse,
    responses={
        **_NOT_FOUND,
        200: {"description": "The file's bytes, as an attachment"},
        410: {"description": "FILE_CONTENT_MISSING: the file is known but its bytes were lost"},
    },
)
async def download(
    file_id: uuid.UUID, user: CurrentUser, session: SessionDep, uploads: UploadsDep
) -> FileResponse:
    """The file, for its owner and for staff on a ticket it is attached to."""
    stored = await service.readable(session, file_id, user_id=user.id, role=user.role)
    return FileResponse(
        service.content_path(uploads.store, stored),
        media_type=stored.content_type,
        filename=stored.name,
        content_disposition_type="attachment",
        headers={"Cache-Control": "private, no-store"},  # X-Content-Type-Options: nosniff is on every answer
    )
