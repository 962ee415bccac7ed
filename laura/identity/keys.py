"""The JWT signing keys: generated on first start, kept sealed in the database, rotatable by `kid`."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.security import FieldCipher, SigningKey, generate_signing_key
from laura.identity.models import SigningKeyRow
from laura.identity.repository import IdentityRepository

_CONTEXT = "signing_keys.private_key"
_KEYS_LOCK = 0x4C4B4559  # advisory lock id: two instances starting together create one key, not two


async def load_signing_keys(session: AsyncSession, cipher: FieldCipher) -> list[SigningKey]:
    """The live keys, oldest first (the last one signs); creates the first key when there is none."""
    repo = IdentityRepository(session)
    rows = await repo.signing_keys()
    if not rows:
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _KEYS_LOCK})
        rows = await repo.signing_keys()
        if not rows:
            rows = [await _store(repo, cipher, generate_signing_key())]
    return [
        SigningKey(
            kid=row.kid,
            private_pem=cipher.decrypt(row.private_key_sealed, context=_CONTEXT),
            public_pem=row.public_pem.encode(),
        )
        for row in rows
    ]


async def rotate_signing_key(session: AsyncSession, cipher: FieldCipher) -> str:
    """Add a new signing key; older keys keep verifying until they are retired. Returns the new kid."""
    row = await _store(IdentityRepository(session), cipher, generate_signing_key())
    return row.kid


async def _store(repo: IdentityRepository, cipher: FieldCipher, key: SigningKey) -> SigningKeyRow:
    row = SigningKeyRow(
        kid=key.kid,
        private_key_sealed=cipher.encrypt(key.private_pem, context=_CONTEXT),
        public_pem=key.public_pem.decode(),
    )
    await repo.add(row)
    return row
