"""A minimal dynamic BR Code (EMV "copia e cola") for the sandbox's charges: enough for a QR and a CRC check.

The platform's full builder lives in `laura.pix.brcode`; the sandbox keeps this small one so the
emulator depends on nothing but itself.
"""

from __future__ import annotations


def _field(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt(data: str) -> str:
    """CRC16/CCITT-FALSE (poly 0x1021, init 0xFFFF) as four upper-case hex digits, as Pix requires."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def dynamic_copy_and_paste(location: str, amount: str, merchant_name: str, merchant_city: str) -> str:
    """The payload of a dynamic charge: it points at `location`, where the payer's bank reads the charge."""
    account = _field("00", "br.gov.bcb.pix") + _field("25", location)
    body = (
        _field("00", "01")
        + _field("01", "12")
        + _field("26", account)
        + _field("52", "0000")
        + _field("53", "986")
        + _field("54", amount)
        + _field("58", "BR")
        + _field("59", merchant_name[:25])
        + _field("60", merchant_city[:15])
        + _field("62", _field("05", "***"))
        + "6304"
    )
    return body + crc16_ccitt(body)
