"""Card numbers and CVVs: made, sealed, looked up and checked without ever being stored in clear.

Envelope encryption: each card is sealed with AES-256-GCM under a data key (`card_keys`), each data key
sealed by the platform's master key; the key id is stored beside the ciphertext, so rotating means
sealing cards again under a new data key (`laura keys rotate`), never touching the master key. The card's
id and field are bound as associated data, so a ciphertext copied onto another card or column fails.

What must be found or checked without decrypting is a keyed MAC under a look-up key derived from the
master key (HKDF): the number's, for the card network's look-up by number, and the number-with-CVV's, so
the authorization checks the CVV in SQL. The look-up key does not rotate with the data keys (every stored
MAC would have to change at once); it changes only with the master key.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum import luhn

from laura.core.security import FieldCipher, KeyedHash

NUMBER_LENGTH = 16
DATA_KEY_CONTEXT = "card_keys.key_sealed"


def new_number(bin_prefix: str) -> str:
    """A random Luhn-valid 16-digit number under the brand's BIN."""
    body = bin_prefix + "".join(
        secrets.choice("0123456789") for _ in range(NUMBER_LENGTH - 1 - len(bin_prefix))
    )
    return body + luhn.calc_check_digit(body)


def new_cvv() -> str:
    return f"{secrets.randbelow(1000):03d}"


def grouped(number: str) -> str:
    """ "4532 1111 1111 4321", as the spec shows a number."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True)
class SealedCard:
    """What a card row stores of its number and CVV."""

    key_id: str
    number_sealed: bytes
    cvv_sealed: bytes
    number_hash: bytes
    cvv_mac: bytes
    last_four: str


class CardMacs:
    """The keyed MACs of a number and of a number with its CVV, under the look-up key (from the master key)."""

    def __init__(self, master_key: bytes) -> None:
        self._mac = KeyedHash(master_key, "laura/cards/lookup")

    def number_hash(self, number: str) -> bytes:
        return self._mac("number:" + number)

    def cvv_mac(self, number: str, cvv: str) -> bytes:
        return self._mac(f"cvv:{number}:{cvv}")


class CardVault:
    """Seals and opens card data with the data keys it holds; `active_key_id` seals new cards."""

    def __init__(self, macs: CardMacs, data_keys: dict[str, bytes], active_key_id: str) -> None:
        if active_key_id not in data_keys:
            raise ValueError("the active data key is not among the keys")
        self.macs = macs
        self._keys = {key_id: AESGCM(key) for key_id, key in data_keys.items()}
        self.active_key_id = active_key_id

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys

    def seal(self, card_id: uuid.UUID, number: str, cvv: str, key_id: str | None = None) -> SealedCard:
        key_id = key_id or self.active_key_id
        return SealedCard(
            key_id=key_id,
            number_sealed=self._encrypt(key_id, card_id, "number", number),
            cvv_sealed=self._encrypt(key_id, card_id, "cvv", cvv),
            number_hash=self.macs.number_hash(number),
            cvv_mac=self.macs.cvv_mac(number, cvv),
            last_four=number[-4:],
        )

    def open(
        self, card_id: uuid.UUID, key_id: str, number_sealed: bytes, cvv_sealed: bytes
    ) -> tuple[str, str]:
        """The card's number and CVV, in clear: only for the response that reveals them."""
        return (
            self._decrypt(key_id, card_id, "number", number_sealed),
            self._decrypt(key_id, card_id, "cvv", cvv_sealed),
        )

    def _encrypt(self, key_id: str, card_id: uuid.UUID, field: str, value: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._keys[key_id].encrypt(nonce, value.encode(), f"cards.{field}:{card_id}".encode())

    def _decrypt(self, key_id: str, card_id: uuid.UUID, field: str, blob: bytes) -> str:
        aad = f"cards.{field}:{card_id}".encode()
        return self._keys[key_id].decrypt(blob[:12], blob[12:], aad).decode()


def new_data_key(master: FieldCipher) -> tuple[bytes, bytes]:
    """A fresh data key and its sealed form for `card_keys.key_sealed`."""
    key = AESGCM.generate_key(bit_length=256)
    return key, master.encrypt(key, context=DATA_KEY_CONTEXT)


def open_data_key(master: FieldCipher, sealed: bytes) -> bytes:
    return master.decrypt(sealed, context=DATA_KEY_CONTEXT)
