"""Enrol and confirm an authenticator app, send a code to a user without one, and verify a code for a
sensitive action.

A verification counts the attempt before checking the code (`GuardRepository.claim_attempt`) and uses the
code in one conditional UPDATE, each its own transaction: a wrong code's count outlives the request's
rollback, concurrent wrong codes cannot get past the limit, and concurrent copies of one right code are
accepted once. A user with a confirmed authenticator verifies with its TOTP only; anyone else with the
newest code sent to them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from math import ceil

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.db import Database
from laura.core.events import publish
from laura.core.security import FieldCipher
from laura.identity.errors import (
    InvalidVerificationCode,
    OtpAlreadyEnrolled,
    OtpNotPending,
    OtpSendTooSoon,
    OtpUseAuthenticator,
    VerificationLocked,
    VerificationRequired,
)
from laura.identity.models import OtpCode
from laura.identity.otp import codes
from laura.identity.otp.delivery import OTP_EVENT, SEALED_FIELD, seal_code
from laura.identity.otp.repository import GuardRepository, OtpRepository
from laura.identity.otp.schemas import ConfirmOut, EnrollOut, SentOut


class VerificationMethod(StrEnum):
    """How a verification was passed, for the caller's audit row."""

    TOTP = "totp"
    CODE = "code"


@dataclass(frozen=True)
class OtpPolicy:
    issuer: str
    code_ttl_seconds: int
    send_interval_seconds: int
    max_failures: int
    lock_seconds: int


@dataclass(frozen=True)
class OtpKeys:
    cipher: FieldCipher
    hasher: codes.CodeHasher


class Verifier:
    """Checks a code for a user; every write is a statement of its own (see the module's docstring)."""

    def __init__(self, db: Database, *, keys: OtpKeys, policy: OtpPolicy) -> None:
        self.guard = GuardRepository(db)
        self.keys = keys
        self.policy = policy

    async def claim_attempt(self, user_id: uuid.UUID) -> None:
        """Count one attempt, or raise 429 while the user is locked."""
        lock = timedelta(seconds=self.policy.lock_seconds)
        if await self.guard.claim_attempt(user_id, max_failures=self.policy.max_failures, lock=lock):
            return
        until = await self.guard.locked_until(user_id)
        now = datetime.now(UTC)
        raise VerificationLocked(ceil((until - now).total_seconds()) if until else self.policy.lock_seconds)

    async def verify(self, user_id: uuid.UUID, code: str | None) -> VerificationMethod:
        if not code:
            raise VerificationRequired()
        await self.claim_attempt(user_id)
        authenticator = await self.guard.authenticator(user_id)
        if authenticator is not None and authenticator["confirmed_at"] is not None:
            secret = codes.unseal(self.keys.cipher, user_id, authenticator["secret_sealed"])
            step = codes.matching_step(secret, code, datetime.now(UTC))
            if step is not None and await self.guard.use_step(user_id, step):
                return VerificationMethod.TOTP
        elif codes.well_formed(code) and await self.guard.use_sent_code(
            user_id, self.keys.hasher(user_id, code)
        ):
            return VerificationMethod.CODE
        raise InvalidVerificationCode()


class OtpService:
    """Enrolment, confirmation and sending, in the request's unit of work."""

    def __init__(self, session: AsyncSession, verifier: Verifier) -> None:
        self.session = session
        self.repo = OtpRepository(session)
        self.verifier = verifier

    @property
    def _keys(self) -> OtpKeys:
        return self.verifier.keys

    @property
    def _policy(self) -> OtpPolicy:
        return self.verifier.policy

    async def enroll(self, user_id: uuid.UUID, email: str) -> EnrollOut:
        """A new secret, pending until confirmed; enrolling again before that replaces it."""
        secret = codes.new_secret()
        if not await self.repo.replace_pending(user_id, codes.seal(self._keys.cipher, user_id, secret)):
            raise OtpAlreadyEnrolled()
        audit.record(
            self.session, action="OTP_ENROLLED", resource_type="otp_authenticator", resource_id=str(user_id)
        )
        uri = codes.provisioning_uri(secret, email=email, issuer=self._policy.issuer)
        return EnrollOut(otpauth_uri=uri, qr_code_png=codes.qr_png_base64(uri))

    async def confirm(self, user_id: uuid.UUID, code: str) -> ConfirmOut:
        """Activate the pending authenticator with one of its codes; a wrong one counts toward the lock."""
        pending = await self.repo.authenticator(user_id)
        if pending is None:
            raise OtpNotPending()
        if pending.confirmed_at is not None:
            raise OtpAlreadyEnrolled()
        await self.verifier.claim_attempt(user_id)
        secret = codes.unseal(self._keys.cipher, user_id, pending.secret_sealed)
        step = codes.matching_step(secret, code, datetime.now(UTC))
        confirmed_at = None
        if step is not None:
            confirmed_at = await self.repo.confirm(user_id, pending.secret_sealed, step)
        if confirmed_at is None:
            raise InvalidVerificationCode()
        await self.repo.reset_guard(user_id)
        audit.record(
            self.session, action="OTP_CONFIRMED", resource_type="otp_authenticator", resource_id=str(user_id)
        )
        return ConfirmOut(confirmed_at=confirmed_at)

    async def send(self, user_id: uuid.UUID) -> SentOut:
        """A 6-digit code for a user without an authenticator, as a `security.otp` event to them alone (the
        stand-in for an SMS); it replaces any code sent before."""
        authenticator = await self.repo.authenticator(user_id)
        if authenticator is not None and authenticator.confirmed_at is not None:
            raise OtpUseAuthenticator()
        await self.repo.lock_sending(user_id)
        now = datetime.now(UTC)
        last = await self.repo.last_sent_at(user_id)
        interval = timedelta(seconds=self._policy.send_interval_seconds)
        if last is not None and now < last + interval:
            raise OtpSendTooSoon(ceil((last + interval - now).total_seconds()))
        code = codes.new_sent_code()
        expires_at = now + timedelta(seconds=self._policy.code_ttl_seconds)
        await self.repo.add_code(
            OtpCode(
                user_id=user_id,
                code_hash=self._keys.hasher(user_id, code),
                expires_at=expires_at,
                created_at=now,
            )
        )
        sealed = seal_code(self._keys.cipher, user_id, code)
        await publish(
            self.session, OTP_EVENT, {SEALED_FIELD: sealed, "expiresAt": expires_at}, user_ids=[user_id]
        )
        return SentOut(expires_at=expires_at)
