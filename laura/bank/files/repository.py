"""Queries on uploaded files."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.files.models import StoredFile


class FileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, stored: StoredFile) -> None:
        self.session.add(stored)
        await self.session.flush()

    async def get(self, file_id: uuid.UUID) -> StoredFile | None:
        return await self.session.get(StoredFile, file_id)

    async def known_hashes(self, hashes: Collection[str]) -> set[str]:
        """Those of `hashes` that some file row still names."""
        query = select(StoredFile.sha256).where(StoredFile.sha256.in_(list(hashes))).distinct()
        return set((await self.session.execute(query)).scalars().all())

    async def owned(self, owner_id: uuid.UUID, ids: Collection[uuid.UUID]) -> Sequence[StoredFile]:
        """Those of `ids` that `owner_id` uploaded."""
        query = select(StoredFile).where(StoredFile.owner_id == owner_id, StoredFile.id.in_(list(ids)))
        return (await self.session.execute(query)).scalars().all()
