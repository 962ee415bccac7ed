"""The Pix keys directory: register, list and delete a customer's keys, and resolve a key to its owner.

A key is stored in the normalized form `laura.pix.keys.parse_pix_key` gives, so a transfer to
`(11) 98765-4321` finds the key registered as `+5511987654321`. Registrations of one customer are
serialized by their account's row lock, so the five-key limit holds under concurrent requests; the
unique index on the key makes it one account's in the whole bank.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts import service as accounts
from laura.bank.pix_keys.errors import PixKeyInUse, PixKeyLimitReached, PixKeyNotFound, PixKeyNotOwned
from laura.bank.pix_keys.models import PixKeyEntry
from laura.bank.pix_keys.repository import PixKeyRepository
from laura.bank.pix_keys.schemas import PixKeyCreate
from laura.core.models import utcnow, uuid7
from laura.pix.keys import PixKeyType, parse_pix_key

MAX_KEYS_PER_ACCOUNT = 5
"""DICT: an individual's account holds at most five keys."""


async def register_key(session: AsyncSession, *, user_id: uuid.UUID, data: PixKeyCreate) -> PixKeyEntry:
    """Register a key to the caller's account: CPF and phone must be their own, EVP is generated."""
    await accounts.require_account(session, user_id, lock=True)
    repo = PixKeyRepository(session)
    key_type = PixKeyType(data.type)
    value = str(uuid.uuid4()) if key_type is PixKeyType.EVP else parse_pix_key(data.key or "", key_type).value
    await _check_owned(repo, user_id, key_type, value)
    if await repo.count(user_id) >= MAX_KEYS_PER_ACCOUNT:
        raise PixKeyLimitReached(details={"limit": MAX_KEYS_PER_ACCOUNT})
    entry = PixKeyEntry(id=uuid7(), user_id=user_id, type=key_type.value, key=value, created_at=utcnow())
    if not await repo.insert(entry):
        raise PixKeyInUse()
    audit.record(
        session,
        action="PIX_KEY_REGISTERED",
        resource_type="pix_key",
        resource_id=str(entry.id),
        new={"type": entry.type, "key": entry.key},
        actor_id=user_id,
    )
    return entry


async def _check_owned(repo: PixKeyRepository, user_id: uuid.UUID, key_type: PixKeyType, value: str) -> None:
    if key_type is PixKeyType.CNPJ:
        raise PixKeyNotOwned("Chaves CNPJ são de contas de pessoa jurídica")
    if key_type in (PixKeyType.CPF, PixKeyType.PHONE):
        cpf, phone = await repo.user_documents(user_id)
        own = cpf if key_type is PixKeyType.CPF else phone
        if own != value:
            raise PixKeyNotOwned(
                details=[{"field": "key", "message": f"not the customer's own {key_type.value}"}]
            )


async def list_keys(session: AsyncSession, user_id: uuid.UUID) -> list[PixKeyEntry]:
    return await PixKeyRepository(session).of_user(user_id)


async def delete_key(session: AsyncSession, *, user_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Remove one of the caller's keys (freeing it for anyone); another customer's key is not found."""
    repo = PixKeyRepository(session)
    entry = await repo.get(key_id, user_id)
    if entry is None:
        raise PixKeyNotFound()
    await repo.remove(entry.id)
    audit.record(
        session,
        action="PIX_KEY_DELETED",
        resource_type="pix_key",
        resource_id=str(entry.id),
        old={"type": entry.type, "key": entry.key},
        actor_id=user_id,
    )


async def key_owner(session: AsyncSession, key: str) -> uuid.UUID | None:
    """The customer a normalized key points to, or None when the key is not in our directory."""
    return await PixKeyRepository(session).owner_of(key)
