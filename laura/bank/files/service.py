"""Uploads: bytes stored by content and sniffed (`laura.core.files`), a row per upload for its owner.

Only PNG, JPEG, PDF and plain text are kept, whatever the name or the declared type say. A file is read by
its owner, or by staff when a registered check allows it (`hooks.staff_may_read`); it is attached only by
its owner (`attachable`). Anyone else asking gets FILE_NOT_FOUND, as for an unknown id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.files.errors import FileContentMissing, FileNotFound, FileTooLarge, UnsupportedFileType
from laura.bank.files.hooks import staff_allowed
from laura.bank.files.models import StoredFile
from laura.bank.files.repository import FileRepository
from laura.core.files import TEXT_PLAIN, FileStore, NotAllowed, TooLarge
from laura.core.models import uuid7

log = structlog.get_logger(__name__)

ALLOWED_TYPES = frozenset({"image/png", "image/jpeg", "application/pdf", TEXT_PLAIN})
STAFF_ROLES = frozenset({"staff", "admin"})
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\/]")
_NAME_MAX = 255


def clean_name(name: str | None) -> str:
    """The client's file name, its last path segment only, without control characters or quotes."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip()[:_NAME_MAX]
    return cleaned or "file"


async def upload(
    session: AsyncSession,
    store: FileStore,
    owner_id: uuid.UUID,
    *,
    name: str | None,
    read: Callable[[int], Awaitable[bytes]],
    limit: int,
) -> StoredFile:
    """Keep an upload: 413 FILE_TOO_LARGE past `limit`, 415 UNSUPPORTED_FILE_TYPE, and then nothing kept."""
    try:
        blob = await store.put(read, limit=limit, allowed=ALLOWED_TYPES)
    except TooLarge:
        raise FileTooLarge(f"O arquivo passa de {limit} bytes") from None
    except NotAllowed:
        raise UnsupportedFileType() from None
    assert blob.content_type is not None  # put keeps only allowed types
    stored = StoredFile(
        id=uuid7(),
        owner_id=owner_id,
        sha256=blob.sha256,
        name=clean_name(name),
        size=blob.size,
        content_type=blob.content_type,
    )
    await FileRepository(session).add(stored)
    return stored


async def readable(session: AsyncSession, file_id: uuid.UUID, *, user_id: uuid.UUID, role: str) -> StoredFile:
    """The file for its owner, or for staff when a registered check allows; else 404 FILE_NOT_FOUND."""
    stored = await FileRepository(session).get(file_id)
    if stored is None:
        raise FileNotFound()
    if stored.owner_id != user_id and not (role in STAFF_ROLES and await staff_allowed(session, file_id)):
        raise FileNotFound()
    return stored


def content_path(store: FileStore, stored: StoredFile) -> Path:
    """Where the file's bytes are; 410 FILE_CONTENT_MISSING (and an error logged) when the store lost them."""
    path = store.path(stored.sha256)
    if not path.is_file():
        log.error("files.content_missing", file_id=str(stored.id), sha256=stored.sha256)
        raise FileContentMissing()
    return path


ORPHAN_MIN_AGE = timedelta(hours=1)
"""How old an unnamed blob must be before the sweep removes it: far longer than any upload takes between
writing its bytes and committing its row, so an upload in flight is never swept."""
_SWEEP_BATCH = 500


async def sweep_orphans(session: AsyncSession, store: FileStore, *, now: datetime) -> int:
    """Remove the blobs no file row names (an upload whose transaction rolled back after its bytes were
    written) and leftover temporary files, once older than `ORPHAN_MIN_AGE`; how many were removed."""
    candidates = list(store.untouched_since((now - ORPHAN_MIN_AGE).timestamp()))
    removed = 0
    for start in range(0, len(candidates), _SWEEP_BATCH):
        batch = candidates[start : start + _SWEEP_BATCH]
        named = await FileRepository(session).known_hashes({sha for sha, _ in batch if sha is not None})
        for sha, path in batch:
            if sha is None or sha not in named:
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("files.orphans_swept", removed=removed)
    return removed


async def attachable(
    session: AsyncSession, owner_id: uuid.UUID, ids: Collection[uuid.UUID]
) -> Sequence[StoredFile]:
    """`ids` as files the caller uploaded, in the given order; one that is not theirs is FILE_NOT_FOUND."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = {stored.id: stored for stored in await FileRepository(session).owned(owner_id, wanted)}
    missing = [str(file_id) for file_id in wanted if file_id not in found]
    if missing:
        raise FileNotFound(
            details=[{"field": "attachments", "message": f"unknown file {file_id}"} for file_id in missing]
        )
    return [found[file_id] for file_id in wanted]
