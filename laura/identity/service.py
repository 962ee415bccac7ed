"""Register, login, refresh rotation with reuse detection, logout, and turning a token into a principal."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.db import commit
from laura.core.errors import RateLimited, ValidationFailed
from laura.core.observability import request_context
from laura.core.ratelimit import RateLimiter
from laura.core.security import TokenError, TokenSigner, hash_password, new_opaque_token, verify_password
from laura.identity.errors import (
    CpfInUse,
    EmailInUse,
    InvalidCredentials,
    InvalidToken,
    RefreshTokenReused,
    WeakPassword,
)
from laura.identity.models import AuthSession, RefreshToken, User
from laura.identity.repository import IdentityRepository
from laura.identity.schemas import LoginRequest, RegisterRequest, TokenPair, UserOut

RegistrationHook = Callable[[AsyncSession, User], Awaitable[None]]
_registration_hooks: list[RegistrationHook] = []


def on_user_registered(hook: RegistrationHook) -> RegistrationHook:
    """Let a context act in the registration's own transaction (the bank opens a checking account)."""
    _registration_hooks.append(hook)
    return hook


@dataclass(frozen=True)
class Principal:
    """Who is calling: enough to authorize without another query."""

    id: uuid.UUID
    role: str
    email: str
    name: str
    session_id: uuid.UUID


@dataclass(frozen=True)
class Caller:
    """Who an access token says is calling, before anything is read: for the routes whose whole unit of work
    is one statement, which checks that the session is still live itself (`auth_session_live`), in the same
    round trip. Its role is the one the token was issued with (at most 15 minutes old)."""

    id: uuid.UUID
    role: str
    session_id: uuid.UUID


def caller_from_token(signer: TokenSigner, access_token: str) -> Caller:
    """Verify signature, expiry and kind; the caller's statement must still check the session
    (`SESSION_ENDED` answers 401 like any dead token)."""
    try:
        claims = signer.verify(access_token)
        return Caller(
            id=uuid.UUID(claims["sub"]), role=str(claims.get("role", "")), session_id=uuid.UUID(claims["sid"])
        )
    except (TokenError, ValueError, KeyError) as exc:
        raise InvalidToken() from exc


async def live_principal(session: AsyncSession, caller: Caller) -> Principal:
    """The caller of a token, its session still live and its user active (what `authenticate` checks), read
    in `session`: for a route that runs its own short units of work instead of the request's session, so
    that no transaction stays open while it waits on another system (a PSP call)."""
    row = await IdentityRepository(session).principal_row(caller.session_id, caller.id)
    if row is None:
        raise InvalidToken()
    return Principal(
        id=row["id"], role=row["role"], email=row["email"], name=row["name"], session_id=caller.session_id
    )


def session_ended() -> InvalidToken:
    """The refusal for a token whose session was found dead by the caller's statement."""
    return InvalidToken()


@dataclass(frozen=True)
class AuthPolicy:
    access_ttl_seconds: int
    refresh_ttl_seconds: int
    password_min_length: int
    login_limit: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_phone(phone: str) -> str:
    """A Brazilian number in E.164 (+55DDNNNNNNNNN), from any common way of writing it."""
    try:
        parsed = phonenumbers.parse(phone, "BR")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(
            "Phone number is invalid", details=[{"field": "phone", "message": str(exc)}]
        ) from exc
    if parsed.country_code != 55 or not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(
            "Phone must be a valid Brazilian number", details=[{"field": "phone", "message": "invalid"}]
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IdentityService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        policy: AuthPolicy,
        signer: TokenSigner | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.session = session
        self.repo = IdentityRepository(session)
        self.signer = signer
        self.limiter = limiter
        self.policy = policy

    @property
    def _signer(self) -> TokenSigner:
        if self.signer is None:
            raise RuntimeError("this IdentityService was built without a TokenSigner")
        return self.signer

    @property
    def _limiter(self) -> RateLimiter:
        if self.limiter is None:
            raise RuntimeError("this IdentityService was built without a RateLimiter")
        return self.limiter

    async def register(self, data: RegisterRequest, *, role: str | None = None) -> User:
        """Create a user; `role` overrides userType only for the CLI (staff and admin)."""
        if len(data.password) < self.policy.password_min_length:
            raise WeakPassword(
                f"Password must have at least {self.policy.password_min_length} characters",
                details=[{"field": "password", "message": "too short"}],
            )
        email = normalize_email(str(data.email))
        phone = normalize_phone(data.phone) if data.phone else None
        # Hashed before the first query: the request's connection is taken at that query and held until the
        # commit, and argon2 waits its turn in a thread pool of a few threads, so a burst of sign-ups hashing
        # after it held the pool's every connection through that queue (pool timeouts under load).
        password_hash = await asyncio.to_thread(hash_password, data.password)
        if await self.repo.email_taken(email):
            raise EmailInUse()
        if data.cpf and await self.repo.cpf_taken(data.cpf):
            raise CpfInUse()
        user = User(
            id=uuid.uuid4(),
            email=email,
            password_hash=password_hash,
            name=data.name,
            phone=phone,
            cpf=data.cpf,
            role=role or data.user_type,
            is_active=True,
            created_at=datetime.now(UTC),
        )
        try:
            async with self.session.begin_nested():
                await self.repo.add(user)
        except IntegrityError as exc:
            raise (CpfInUse() if "cpf" in str(exc.orig) else EmailInUse()) from exc
        for hook in _registration_hooks:
            await hook(self.session, user)
        audit.record(
            self.session,
            action="USER_REGISTERED",
            resource_type="user",
            resource_id=str(user.id),
            new={"email": email, "role": user.role},
            actor_id=user.id,
        )
        return user

    async def login(self, data: LoginRequest) -> TokenPair:
        email = normalize_email(str(data.email))
        key = f"login:{email}"
        await self._limiter.check(self.policy.login_limit, key, "Too many failed logins; try again later")
        user = await self.repo.user_by_email(email)
        # The lookup's connection goes back to the pool before argon2 (tens of ms in a thread pool of a few
        # threads): held through that queue, a burst of logins took every connection (pool timeouts).
        await commit(self.session)
        valid = await asyncio.to_thread(verify_password, user.password_hash if user else None, data.password)
        if not valid or user is None or not user.is_active:
            try:
                await self._limiter.hit(self.policy.login_limit, key)
            except RateLimited:
                pass
            raise InvalidCredentials()
        await self._limiter.reset(self.policy.login_limit, key)
        ctx = request_context()
        auth_session = AuthSession(
            id=uuid.uuid4(),
            user_id=user.id,
            ip=ctx.client_ip if ctx else None,
            user_agent=(ctx.user_agent or "")[:256] if ctx else None,
            created_at=datetime.now(UTC),
        )
        await self.repo.add(auth_session)
        return await self._issue(user.id, user.role, auth_session.id)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is spent; presenting a spent one revokes its whole family."""
        now = datetime.now(UTC)
        found = await self.repo.refresh_token_for_update(_token_hash(refresh_token))
        if found is None:
            raise InvalidToken()
        token, auth_session = found
        if auth_session.revoked_at is not None or token.expires_at <= now:
            raise InvalidToken()
        if token.used_at is not None:
            await self.repo.revoke_session(auth_session.id, "refresh_reuse", now)
            audit.record(
                self.session,
                action="REFRESH_TOKEN_REUSED",
                resource_type="auth_session",
                resource_id=str(auth_session.id),
                actor_id=auth_session.user_id,
            )
            raise RefreshTokenReused()
        user = await self.repo.user_by_id(auth_session.user_id)
        if user is None or not user.is_active:
            raise InvalidToken()
        token.used_at = now
        return await self._issue(user.id, user.role, auth_session.id)

    async def logout(self, principal: Principal) -> None:
        await self.repo.revoke_session(principal.session_id, "logout", datetime.now(UTC))

    async def authenticate(self, access_token: str) -> Principal:
        """Verify signature, expiry and kind, then that the session is still live (logout bites at once)."""
        try:
            claims = self._signer.verify(access_token)
            session_id, user_id = uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
        except (TokenError, ValueError, KeyError) as exc:
            raise InvalidToken() from exc
        return await self.session_principal(session_id, user_id)

    async def session_principal(self, session_id: uuid.UUID, user_id: uuid.UUID) -> Principal:
        """The caller of a live session: what `authenticate` checks after the token, and what the web app's
        session cookie (which names the same session) checks on every page."""
        return await live_principal(self.session, Caller(id=user_id, role="", session_id=session_id))

    async def customer_by_email(self, email: str) -> tuple[uuid.UUID, str] | None:
        """An active customer's id and name, for a transfer form that names its recipient before money moves
        (the web app's P2P by e-mail); anyone else (staff, a driver, an inactive user) is not found."""
        user = await self.repo.user_by_email(normalize_email(email))
        if user is None or not user.is_active or user.role != "customer":
            return None
        return user.id, user.name

    async def profile(self, user_id: uuid.UUID) -> UserOut:
        """The authenticated user's own record (`GET /auth/me`)."""
        found = await self.repo.user_out(user_id)
        if found is None:  # authenticate found them active a statement ago; gone since is a dead token
            raise InvalidToken()
        return found

    async def _issue(self, user_id: uuid.UUID, role: str, session_id: uuid.UUID) -> TokenPair:
        refresh = new_opaque_token()
        await self.repo.add(
            RefreshToken(
                id=uuid.uuid4(),
                session_id=session_id,
                token_hash=_token_hash(refresh),
                expires_at=datetime.now(UTC) + timedelta(seconds=self.policy.refresh_ttl_seconds),
                created_at=datetime.now(UTC),
            )
        )
        access = self._signer.issue(subject=str(user_id), session_id=str(session_id), role=role)
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            token_type="Bearer",
            expires_in=self.policy.access_ttl_seconds,
        )


async def create_privileged_user(
    session: AsyncSession, data: RegisterRequest, *, role: str, password_min_length: int = 10
) -> User:
    """Staff and admin accounts: created only from the CLI (and tests), never over HTTP."""
    if role not in ("staff", "admin"):
        raise ValueError("role must be staff or admin")
    policy = AuthPolicy(
        access_ttl_seconds=0, refresh_ttl_seconds=0, password_min_length=password_min_length, login_limit=""
    )
    return await IdentityService(session, policy=policy).register(data, role=role)
