"""The cards' data keys: loaded when the app starts, the first one created then, rotated by `laura keys rotate`.

Key ids grow (`ck000001`, `ck000002`, …) so the newest is the greatest, and a key is inserted with ON CONFLICT
DO NOTHING: two instances starting on an empty table, or two rotations at once, add one key, not two. A
process holds the keys it has read in its `CardKeyring`; a new card is sealed under the newest key its
transaction sees, and a key this process does not know yet (another one rotated) makes it read them again.

Rotating makes a new key the newest, then seals every card again under it, a batch per transaction
(`FOR UPDATE SKIP LOCKED`, so a card an authorization holds is taken on a later pass), until a pass finds no
card under an older key. Interrupted, it is resumed: the default run finishes an unfinished rotation with
its key before it would make another. Only the ciphertexts change; the number's look-up MAC does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.cards.crypto import CardMacs, CardVault, new_data_key, open_data_key
from laura.bank.cards.repository import CardRepository
from laura.core.db import Database
from laura.core.security import FieldCipher

_LOCKED_RETRY_SECONDS = 0.2

Progress = Callable[[int, int], None]
"""Called after each batch with (cards sealed again so far, cards that were under older keys)."""


def key_id(n: int) -> str:
    return f"ck{n:06d}"


def _after(newest: str | None) -> str:
    return key_id(int(newest[2:]) + 1 if newest else 1)


class CardKeyring:
    """This process's data keys, as a vault that seals under the newest and opens under any of them."""

    def __init__(self, master: FieldCipher, macs: CardMacs) -> None:
        self.master, self.macs = master, macs
        self._vault: CardVault | None = None

    async def load(self, session: AsyncSession) -> CardVault:
        """Read every key (creating the first when there is none); the newest seals."""
        repo = CardRepository(session)
        rows = await repo.keys()
        if not rows:
            await repo.insert_key(key_id(1), new_data_key(self.master)[1])
            rows = await repo.keys()
        keys = {row.id: open_data_key(self.master, row.key_sealed) for row in rows}
        self._vault = CardVault(self.macs, keys, rows[-1].id)
        return self._vault

    async def sealing(self, session: AsyncSession) -> CardVault:
        """The vault, its active key the newest this transaction sees."""
        newest = await CardRepository(session).newest_key_id()
        if self._vault is None or newest != self._vault.active_key_id:
            return await self.load(session)
        return self._vault

    async def opening(self, session: AsyncSession, key_id: str) -> CardVault:
        """The vault, knowing `key_id`."""
        if self._vault is None or not self._vault.knows(key_id):
            return await self.load(session)
        return self._vault


async def open_keyring(db: Database, master: FieldCipher, macs: CardMacs) -> CardKeyring:
    keyring = CardKeyring(master, macs)
    async with db.unit_of_work() as session:
        await keyring.load(session)
    return keyring


class RotationMode(StrEnum):
    AUTO = "auto"
    """Finish an unfinished rotation with its key; when none is unfinished, start one."""
    NEW = "new"
    """Always start with a new key."""
    FINISH = "finish"
    """Only seal again the cards still under older keys: never a new key (nothing to do, nothing done)."""


@dataclass(frozen=True)
class Rotation:
    key_id: str
    created: bool
    resealed: int
    remaining: int
    """Cards still under older keys when it stopped (0 unless `max_batches` stopped it)."""


async def rotate(
    db: Database,
    keyring: CardKeyring,
    *,
    mode: RotationMode = RotationMode.AUTO,
    batch: int = 500,
    max_batches: int | None = None,
    progress: Progress | None = None,
) -> Rotation:
    """Make the newest key (per `mode`) the one every card is sealed under; `max_batches` stops early."""
    async with db.unit_of_work() as session:
        repo = CardRepository(session)
        newest = await repo.newest_key_id()
        pending = await repo.count_not_under(newest) if newest else 0
        created = mode == RotationMode.NEW or (mode == RotationMode.AUTO and pending == 0) or newest is None
        if created:
            newest = _after(newest)
            await repo.insert_key(newest, new_data_key(keyring.master)[1])
            audit.record(session, action="CARD_KEY_CREATED", resource_type="card_key", resource_id=newest)
            pending = await repo.count_not_under(newest)
        assert newest is not None
        await keyring.load(session)
    resealed, remaining = await _reseal(db, keyring, newest, pending, batch, max_batches, progress)
    return Rotation(key_id=newest, created=created, resealed=resealed, remaining=remaining)


async def _reseal(
    db: Database,
    keyring: CardKeyring,
    target: str,
    total: int,
    batch: int,
    max_batches: int | None,
    progress: Progress | None,
) -> tuple[int, int]:
    """Seal cards again under `target`, a batch per transaction, until none is left under another key."""
    done = batches = 0
    if progress is not None:
        progress(0, total)
    while max_batches is None or batches < max_batches:
        async with db.unit_of_work() as session:
            repo = CardRepository(session)
            cards = await repo.lock_batch_not_under(target, batch)
            left = 0 if cards else await repo.count_not_under(target)
            vault = await keyring.opening(session, target)
            rows: list[dict[str, object]] = []
            for card in cards:
                if not vault.knows(card.key_id):
                    vault = await keyring.opening(session, card.key_id)
                number, cvv = vault.open(card.id, card.key_id, card.number_sealed, card.cvv_sealed)
                sealed = vault.seal(card.id, number, cvv, key_id=target)
                rows.append(
                    {
                        "id": card.id,
                        "key_id": target,
                        "number_sealed": sealed.number_sealed,
                        "cvv_sealed": sealed.cvv_sealed,
                    }
                )
            await repo.reseal(rows)
        if not cards:
            if left == 0:
                return done, 0
            # held by authorizations (SKIP LOCKED passed them), or issued under the old key meanwhile
            await asyncio.sleep(_LOCKED_RETRY_SECONDS)
            continue
        done, batches = done + len(cards), batches + 1
        if progress is not None:
            progress(done, max(total, done))
    async with db.unit_of_work() as session:
        return done, await CardRepository(session).count_not_under(target)
