"""Passwords (argon2id), RS256 access tokens with rotatable keys, AES-256-GCM field encryption, and keyed
hashes under keys derived from the master key."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("laura-timing-equalizer")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-ish time: an unknown user still pays for one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def load_or_create_secret(secret: str | None, path: Path) -> bytes:
    """The 32-byte master key: LAURA_SECRET_KEY (base64) or a file created once in the data dir."""
    if secret:
        key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    else:
        if not path.exists():
            _create_secret_file(path, base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode())
        key = base64.urlsafe_b64decode(path.read_text().strip())
    if len(key) != 32:
        raise ValueError("LAURA_SECRET_KEY must be 32 bytes, base64-encoded")
    return key


def load_or_create_token(path: Path) -> str:
    """A random URL-safe secret (256 bits) kept in `path`, created there (mode 0600) the first time."""
    if not path.exists():
        _create_secret_file(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


def _create_secret_file(path: Path, content: str) -> None:
    """Write a new secret so that the file only ever appears whole, and only once: it goes to a private
    (0600) temporary file, which is then hard-linked to the name. When several processes start at once
    (uvicorn --workers), the first link wins and the others read its secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


class FieldCipher:
    """AES-256-GCM for sensitive columns: random 96-bit nonce, the column name bound as associated data."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, blob: bytes, *, context: str) -> bytes:
        return self._aead.decrypt(blob[:12], blob[12:], context.encode())


class KeyedHash:
    """HMAC-SHA256 under a key derived from the master key for one `purpose` (HKDF): for what must be looked
    up or compared but never stored (a card number, a sent code). It changes only with the master key."""

    def __init__(self, master_key: bytes, purpose: str) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
            master_key
        )

    def __call__(self, message: str) -> bytes:
        return hmac.new(self._key, message.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    public_pem: bytes


def generate_signing_key() -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(kid=uuid.uuid4().hex[:16], private_pem=private_pem, public_pem=public_pem)


_VERIFIED_TOKENS = 10_000
"""Tokens whose signature check is remembered (a failed check is never cached)."""


def _rsa_public(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("signing keys are RSA (RS256)")
    return key


def _rsa_private(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("signing keys are RSA (RS256)")
    return key


class TokenError(Exception):
    """The access token is missing, malformed, forged, expired or of the wrong kind."""


class TokenSigner:
    """Signs with the newest key and verifies with any known key, picked by the token's `kid`."""

    def __init__(self, keys: list[SigningKey], *, issuer: str, ttl_seconds: int) -> None:
        if not keys:
            raise ValueError("at least one signing key is required")
        self.keys = {k.kid: k for k in keys}
        self.active = keys[-1]
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds
        self._public = {k.kid: _rsa_public(k.public_pem) for k in keys}
        self._private = _rsa_private(self.active.private_pem)
        self._verified = functools.lru_cache(maxsize=_VERIFIED_TOKENS)(self._verify_signature)

    def issue(self, *, subject: str, session_id: str, role: str, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "sid": session_id,
            "role": role,
            "typ": "access",
            "iat": int(issued.timestamp()),
            "exp": int((issued + timedelta(seconds=self.ttl_seconds)).timestamp()),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.active.kid})

    def verify(self, token: str) -> Mapping[str, Any]:
        """The token's claims once its signature, issuer, kind and expiry hold; a token already verified
        skips the RSA check (a client sends the same token for 15 minutes) but not the expiry."""
        claims = self._verified(token)
        if claims["exp"] <= time.time():
            raise TokenError("Signature has expired")
        return claims

    def _verify_signature(self, token: str) -> Mapping[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            public = self._public.get(kid) if isinstance(kid, str) else None
            if public is None:
                raise TokenError("unknown signing key")
            claims = jwt.decode(
                token,
                public,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "sid", "typ"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        if claims.get("typ") != "access":
            raise TokenError("not an access token")
        return MappingProxyType(claims)

    def jwks(self) -> dict[str, Any]:
        """The public keys in JWK form, for `/.well-known/jwks.json`."""
        keys = []
        for kid, public in self._public.items():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}


def new_opaque_token() -> str:
    """A 256-bit random token (refresh tokens, API secrets); only its hash is stored."""
    return secrets.token_urlsafe(32)
