"""A sent code's way to its user: sealed in the `security.otp` event, opened only on the user's own socket.

The event goes through the outbox table, the bus and the replay backlog, which keep what they carry; a
plaintext code there would be a live credential in every backup and to every reader of the outbox. The
event carries it sealed under the app's field key, bound to the user (`sealedCode`); the WebSocket that
delivers it to that user, the stand-in for an SMS gateway, opens it into `code` as it writes the frame.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from laura.core.security import FieldCipher

OTP_EVENT = "security.otp"
SEALED_FIELD = "sealedCode"


def _context(user_id: uuid.UUID | str) -> str:
    return f"security.otp.code:{user_id}"


def seal_code(cipher: FieldCipher, user_id: uuid.UUID, code: str) -> str:
    return base64.urlsafe_b64encode(cipher.encrypt(code.encode(), context=_context(user_id))).decode()


def open_code(cipher: FieldCipher, user_id: uuid.UUID | str, sealed: str) -> str:
    """The code sealed for `user_id`; a ciphertext sealed for another user fails (InvalidTag)."""
    return cipher.decrypt(base64.urlsafe_b64decode(sealed), context=_context(user_id)).decode()


def socket_frame(cipher: FieldCipher, user_id: uuid.UUID | str, frame: dict[str, Any]) -> dict[str, Any]:
    """The frame as `user_id`'s socket sends it: a `security.otp` event's code opened, any other unchanged."""
    data = frame.get("data")
    if frame.get("type") != OTP_EVENT or not isinstance(data, dict) or SEALED_FIELD not in data:
        return frame
    opened = {key: value for key, value in data.items() if key != SEALED_FIELD}
    opened["code"] = open_code(cipher, user_id, data[SEALED_FIELD])
    return {**frame, "data": opened}
