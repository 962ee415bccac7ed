"""The cryptography of one-time codes: TOTP secrets and their steps (RFC 6238, `pyotp`), the keyed hash of a
sent code, and the QR code of an `otpauth://` URI."""

from __future__ import annotations

import base64
import hmac
import io
import re
import secrets
import uuid
from datetime import datetime

import pyotp
import segno

from laura.core.security import FieldCipher, KeyedHash

_SIX_DIGITS = re.compile(r"[0-9]{6}")
_WINDOW = (0, -1, 1)
"""Steps accepted around now (`valid_window=1`): a code typed as its 30 s ran out, or a clock a step off."""


def secret_context(user_id: uuid.UUID) -> str:
    """Associated data of a sealed secret: a ciphertext copied onto another user's row fails to open."""
    return f"otp_authenticators.secret_sealed:{user_id}"


def new_secret() -> str:
    return pyotp.random_base32()


def seal(cipher: FieldCipher, user_id: uuid.UUID, secret: str) -> bytes:
    return cipher.encrypt(secret.encode(), context=secret_context(user_id))


def unseal(cipher: FieldCipher, user_id: uuid.UUID, sealed: bytes) -> str:
    return cipher.decrypt(sealed, context=secret_context(user_id)).decode()


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    """`otpauth://totp/<issuer>:<email>?secret=...&issuer=<issuer>`, what authenticator apps scan."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_png_base64(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make_qr(uri, error="m").save(buffer, kind="png", scale=6, border=4)
    return base64.b64encode(buffer.getvalue()).decode()


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code `code` is (now's, or one either side), compared in constant time; None if
    none. The caller accepts it only if it is later than the last step used."""
    if not well_formed(code):
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at)
    found = None
    for offset in _WINDOW:
        if hmac.compare_digest(totp.generate_otp(now + offset), code) and found is None:
            found = now + offset
    return found


def new_sent_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def well_formed(code: str) -> bool:
    return _SIX_DIGITS.fullmatch(code) is not None


class CodeHasher:
    """The keyed hash of a sent code, bound to its user, under a key derived from the master key (HKDF): a
    code lives five minutes, so a salted slow hash buys nothing a secret key does not, and it can be
    looked up."""

    def __init__(self, master_key: bytes) -> None:
        self._mac = KeyedHash(master_key, "laura/otp/codes")

    def __call__(self, user_id: uuid.UUID, code: str) -> bytes:
        return self._mac(f"{user_id}:{code}")
