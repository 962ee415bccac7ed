"""Pix BR Code ("Pix copia e cola"): the EMV QR payload of Banco Central's "Manual de Padrões para
Iniciação do Pix", built and parsed.

A payload is a run of fields, each a 2-digit id, a 2-digit length (01-99) and the value, ending with
field 63: the CRC16 of everything before it, "6304" included. A static BR Code carries the receiver's
Pix key (field 26, subfield 01) and optionally an amount and a description; a dynamic one carries
the location URL (26-25) of a charge held by the receiver's PSP instead of the key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from laura.pix.errors import InvalidBrCode
from laura.pix.keys import parse_pix_key

PIX_GUI = "br.gov.bcb.pix"
MERCHANT_NAME_MAX = 25
MERCHANT_CITY_MAX = 15
TXID_NONE = "***"
REUSABLE = "11"
SINGLE_USE = "12"

_NAMES = {
    "00": "payload format indicator",
    "01": "point of initiation method",
    "26": "merchant account information",
    "52": "merchant category code",
    "53": "transaction currency",
    "54": "transaction amount",
    "58": "country code",
    "59": "merchant name",
    "60": "merchant city",
    "62": "additional data",
}
_REQUIRED = ("52", "53", "58", "59", "60")
_CRC_TAIL = re.compile(r"6304([0-9A-Fa-f]{4})$")
_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]{1,2})?$")
_TXID = re.compile(r"^[A-Za-z0-9]{1,25}$")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class BrCode:
    """The fields of a BR Code. Exactly one of `key` (static) and `location` (dynamic) is set.

    `point_of_initiation` is "11" (reusable), "12" (single use) or None when the payload omits it;
    `txid` is None when the payload holds "***".
    """

    merchant_name: str
    merchant_city: str
    key: str | None = None
    location: str | None = None
    amount: Decimal | None = None
    description: str | None = None
    txid: str | None = None
    point_of_initiation: str | None = None


def crc16(data: str) -> str:
    """CRC16-CCITT-FALSE (poly 0x1021, init 0xFFFF) of the UTF-8 bytes, as field 63 writes it."""
    crc = 0xFFFF
    for byte in data.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _label(tag: str) -> str:
    return f"{tag} ({_NAMES[tag]})" if tag in _NAMES else tag


def _ascii(text: str) -> str:
    """Printable ASCII as banks' apps expect: accents dropped (São -> Sao), other symbols removed."""
    kept = "".join(ch for ch in unicodedata.normalize("NFKD", text) if ch.isspace() or " " <= ch <= "~")
    return " ".join(kept.split())


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise InvalidBrCode(f"Field {_label(tag)} would have {len(value)} characters; EMV allows at most 99")
    return f"{tag}{len(value):02d}{value}"


def _amount_text(amount: Decimal) -> str:
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal, never a float")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(_CENT):
        raise InvalidBrCode(f"The amount must be positive with at most two decimals, got {amount}")
    text = f"{amount:.2f}"
    if len(text) > 13:
        raise InvalidBrCode(f"The amount {text} is longer than the 13 characters of field 54")
    return text


def _merchant(text: str, what: str, limit: int) -> str:
    value = _ascii(text.upper())[:limit].strip()
    if not value:
        raise InvalidBrCode(f"The {what} is empty once written in plain ASCII")
    return value


def build_brcode(
    *,
    merchant_name: str,
    merchant_city: str,
    key: str | None = None,
    location: str | None = None,
    amount: Decimal | None = None,
    description: str | None = None,
    txid: str | None = None,
    point_of_initiation: str | None = None,
) -> str:
    """The "copia e cola" text of a static (`key`) or dynamic (`location`) BR Code, CRC included.

    The key is normalized as DICT stores it; name and city become upper-case ASCII cut to 25 and 15
    characters, the description plain ASCII; a location loses its https:// scheme, as the manual asks.
    """
    if (key is None) == (location is None):
        raise InvalidBrCode("A BR Code needs exactly one of a Pix key (static) and a location (dynamic)")
    if point_of_initiation not in (None, REUSABLE, SINGLE_USE):
        raise InvalidBrCode(f"The point of initiation must be 11 or 12, got {point_of_initiation!r}")
    if txid is not None and not _TXID.match(txid):
        raise InvalidBrCode("The txid of a BR Code must be 1 to 25 letters or digits")
    account = _field("00", PIX_GUI)
    if key is not None:
        account += _field("01", parse_pix_key(key).value)
        text = _ascii(description or "")
        account += _field("02", text) if text else ""
    else:
        url = re.sub(r"^https?://", "", (location or "").strip())
        if not url:
            raise InvalidBrCode("The location of a dynamic BR Code is empty")
        account += _field("25", url)
    payload = (
        _field("00", "01")
        + (_field("01", point_of_initiation) if point_of_initiation else "")
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")
        + (_field("54", _amount_text(amount)) if amount is not None else "")
        + _field("58", "BR")
        + _field("59", _merchant(merchant_name, "merchant name", MERCHANT_NAME_MAX))
        + _field("60", _merchant(merchant_city, "merchant city", MERCHANT_CITY_MAX))
        + _field("62", _field("05", txid or TXID_NONE))
        + "6304"
    )
    return payload + crc16(payload)


def _read_fields(text: str, where: str, prefix: str = "") -> dict[str, str]:
    """Split a run of TLV fields, saying where and how a length or id is wrong."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        head = text[pos : pos + 4]
        if not re.fullmatch(r"[0-9]{4}", head):
            after = f" (is the length of field {prefix}{list(fields)[-1]} right?)" if fields else ""
            raise InvalidBrCode(
                f"Expected a field id and length (4 digits) at position {pos} of {where}, "
                f"found {head!r}{after}"
            )
        tag, size = head[:2], int(head[2:])
        label = _label(tag) if not prefix else prefix + tag
        if size == 0:
            raise InvalidBrCode(f"Field {label} has length 00; a field holds 1 to 99 characters")
        value = text[pos + 4 : pos + 4 + size]
        if len(value) < size:
            raise InvalidBrCode(
                f"Field {label} declares {size} characters but only {len(value)} remain in {where}"
            )
        if tag in fields:
            raise InvalidBrCode(f"Field {label} appears twice in {where}")
        fields[tag] = value
        pos += 4 + size
    return fields


def _pix_account(fields: dict[str, str]) -> dict[str, str]:
    for tag in (f"{n:02d}" for n in range(26, 52)):
        if tag in fields:
            sub = _read_fields(fields[tag], f"field {tag}", prefix=f"{tag}-")
            if sub.get("00", "").lower() == PIX_GUI:
                return sub
    raise InvalidBrCode(f"No merchant account (fields 26 to 51) holds the Pix GUI {PIX_GUI}")


def _parse_amount(text: str) -> Decimal:
    if len(text) > 13 or not _AMOUNT.match(text):
        raise InvalidBrCode(
            f"Field 54 (transaction amount) must be digits with up to 2 decimals, got {text!r}"
        )
    amount = Decimal(text).quantize(_CENT)
    if amount <= 0:
        raise InvalidBrCode("Field 54 (transaction amount) must be greater than zero")
    return amount


def _check_fixed(fields: dict[str, str]) -> None:
    if next(iter(fields)) != "00":
        raise InvalidBrCode("The payload must start with field 00 (payload format indicator)")
    for tag in _REQUIRED:
        if tag not in fields:
            raise InvalidBrCode(f"Field {_label(tag)} is missing")
    for tag, value in (("00", "01"), ("53", "986"), ("58", "BR")):
        if fields[tag] != value:
            raise InvalidBrCode(f"Field {_label(tag)} must be {value}, found {fields[tag]!r}")
    if fields.get("01", REUSABLE) not in (REUSABLE, SINGLE_USE):
        raise InvalidBrCode(f"Field {_label('01')} must be 11 or 12, found {fields['01']!r}")
    if not re.fullmatch(r"[0-9]{4}", fields["52"]):
        raise InvalidBrCode(f"Field {_label('52')} must be 4 digits, found {fields['52']!r}")
    for tag, limit in (("59", MERCHANT_NAME_MAX), ("60", MERCHANT_CITY_MAX)):
        if len(fields[tag]) > limit:
            raise InvalidBrCode(f"Field {_label(tag)} has {len(fields[tag])} characters; at most {limit}")


def parse_brcode(payload: str) -> BrCode:
    """Read a "copia e cola" text, checking its structure and CRC, to show or pay what it asks.

    Raises InvalidBrCode naming the field at fault. Fields Pix does not use (61, 80-99) are ignored.
    """
    text = (payload or "").strip()
    tail = _CRC_TAIL.search(text)
    if not tail:
        raise InvalidBrCode("The payload does not end with its CRC (field 63: 6304 and 4 hex digits)")
    fields = _read_fields(text[: tail.start()], "the payload before its CRC")
    if not fields:
        raise InvalidBrCode("The payload holds nothing but a CRC")
    expected_crc = crc16(text[:-4])
    if tail.group(1).upper() != expected_crc:
        raise InvalidBrCode(
            f"The CRC does not match: the payload ends with {tail.group(1)} but its content gives "
            f"{expected_crc}; it was altered or mistyped"
        )
    _check_fixed(fields)
    account = _pix_account(fields)
    key, location = account.get("01"), account.get("25")
    if (key is None) == (location is None):
        raise InvalidBrCode("The Pix merchant account must hold either a key (01) or a location (25)")
    extra = _read_fields(fields["62"], "field 62", prefix="62-") if "62" in fields else {}
    txid = extra.get("05")
    return BrCode(
        merchant_name=fields["59"],
        merchant_city=fields["60"],
        key=key,
        location=location,
        amount=_parse_amount(fields["54"]) if "54" in fields else None,
        description=account.get("02"),
        txid=None if txid in (None, TXID_NONE) else txid,
        point_of_initiation=fields.get("01"),
    )
