"""Boletos: read a typed line or a scanned barcode, check every check digit, decode what it says.

Two FEBRABAN layouts share the 44-digit barcode:

Bank slip ("ficha de compensação"), barcode positions (1-based):
    1-3 bank (COMPE) | 4 currency (9 = real) | 5 general check digit (mod 11)
    6-9 due-date factor | 10-19 amount in cents | 20-44 free field (the bank's own 25 digits)
  Its 47-digit typed line ("linha digitável") reorders it into five fields:
    1: bank, currency, free[0:5], mod-10 digit | 2: free[5:15], mod-10 digit
    3: free[15:25], mod-10 digit | 4: the general check digit | 5: factor and amount

Utility / collection slip ("arrecadação"), always starting with 8:
    1 product (8) | 2 segment | 3 value type (6/7: mod 10, 8/9: mod 11; 6/8: amount in reais,
    7/9: a reference quantity) | 4 general check digit | 5-15 value | 16-19 company id
    (16-23, a CNPJ root, for segment 6) | 20-44 free field (24-44 for segment 6)
  Its 48-digit line is the barcode in four blocks of 11 digits, each followed by its check digit,
  computed with the same modulus as the general digit.

The due-date factor counts days from 1997-10-07; after 9999 (2025-02-21) it restarted at 1000
(2025-02-22), so a factor names one date every 9000 days and the one nearest today is meant.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from laura.bank.bills.errors import AmountMismatch, InvalidBarcode
from laura.bank.participants import find_by_compe

FACTOR_BASE = date(1997, 10, 7)
FACTOR_CYCLE_DAYS = 9000  # factors 1000..9999, reused since 2025-02-22

SEGMENTS: dict[str, str] = {
    "1": "Prefeituras",
    "2": "Saneamento",
    "3": "Energia elétrica e gás",
    "4": "Telecomunicações",
    "5": "Órgãos governamentais",
    "6": "Carnês e assemelhados",
    "7": "Multas de trânsito",
    "9": "Uso exclusivo do banco",
}
_CNPJ_SEGMENT = "6"
_MOD10_VALUE_TYPES = frozenset("67")
_MOD11_VALUE_TYPES = frozenset("89")
_REAL_VALUE_TYPES = frozenset("68")

_SEPARATORS = re.compile(r"[\s.\-]+")
_ASCII_DIGITS = re.compile(r"[0-9]*")
_BRASILIA = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True, slots=True)
class Bill:
    """What a boleto says. `amount` is None when the slip leaves it open (zero or a reference value)."""

    type: Literal["BANK", "UTILITY"]
    barcode: str
    digitable_line: str
    bank_code: str | None
    bank_name: str | None
    segment: str | None
    segment_name: str | None
    amount: Decimal | None
    due_date: date | None
    currency: str | None
    value_type: str | None
    company_id: str | None
    free_field: str


# --- check digits -----------------------------------------------------------------------------


def _mod10(digits: str) -> int:
    total = 0
    for i, char in enumerate(reversed(digits)):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _mod11_rest(digits: str) -> int:
    return sum(int(char) * (2 + i % 8) for i, char in enumerate(reversed(digits))) % 11


def _mod11_bank(digits: str) -> int:
    """Bank slips: 11 - rest, where 0, 10 and 11 become 1 (a bank barcode never has 0 there)."""
    digit = 11 - _mod11_rest(digits)
    return 1 if digit in (0, 10, 11) else digit


def _mod11_utility(digits: str) -> int:
    """Utility slips: rest 0 or 1 gives 0, rest 10 gives 1, otherwise 11 - rest."""
    rest = _mod11_rest(digits)
    return 0 if rest in (0, 1) else 11 - rest


def _utility_check(value_type: str) -> Callable[[str], int]:
    return _mod10 if value_type in _MOD10_VALUE_TYPES else _mod11_utility


def _expect(what: str, found: str, expected: int) -> None:
    if int(found) != expected:
        raise InvalidBarcode(
            f"{what} check digit is {found}, expected {expected}",
            details={"check": what, "found": int(found), "expected": expected},
        )


# --- parsing ----------------------------------------------------------------------------------


def parse_bill(text: str, *, today: date | None = None) -> Bill:
    """Read a 47-digit bank line, a 48-digit utility line or a 44-digit barcode, checking every digit.

    Dots, spaces and hyphens are ignored. `today` (default: today in Brasília) picks the due-date
    cycle. Raises InvalidBarcode naming the check that failed.
    """
    digits = _SEPARATORS.sub("", text or "")
    if not _ASCII_DIGITS.fullmatch(digits):
        raise InvalidBarcode("a barcode holds only digits, dots, spaces and hyphens")
    today = today or datetime.now(_BRASILIA).date()
    if len(digits) == 47:
        return _bank_bill(_bank_barcode_from_line(digits), today)
    if len(digits) == 48:
        return _utility_bill(_utility_barcode_from_line(digits))
    if len(digits) == 44:
        if digits[0] == "8":
            return _utility_bill(digits)
        return _bank_bill(digits, today)
    raise InvalidBarcode(f"expected 44, 47 or 48 digits, got {len(digits)}")


def _bank_barcode_from_line(line: str) -> str:
    if line[0] == "8":
        raise InvalidBarcode("a 47-digit bank line cannot start with 8, which marks utility slips")
    for number, (start, end) in enumerate(((0, 9), (10, 20), (21, 31)), start=1):
        _expect(f"field {number}", line[end], _mod10(line[start:end]))
    return line[0:4] + line[32] + line[33:47] + line[4:9] + line[10:20] + line[21:31]


def _utility_barcode_from_line(line: str) -> str:
    if line[0] != "8":
        raise InvalidBarcode(f"a 48-digit utility line must start with 8, not {line[0]}")
    _check_value_type(line[2])
    check = _utility_check(line[2])
    blocks = [line[i * 12 : i * 12 + 11] for i in range(4)]
    for number, block in enumerate(blocks, start=1):
        _expect(f"block {number}", line[number * 12 - 1], check(block))
    return "".join(blocks)


def _check_value_type(value_type: str) -> None:
    if value_type not in _MOD10_VALUE_TYPES | _MOD11_VALUE_TYPES:
        raise InvalidBarcode(f"value type identifier {value_type} is not 6, 7, 8 or 9")


def _bank_bill(barcode: str, today: date) -> Bill:
    _expect("general", barcode[4], _mod11_bank(barcode[:4] + barcode[5:]))
    bank_code = barcode[0:3]
    participant = find_by_compe(bank_code)
    return Bill(
        type="BANK",
        barcode=barcode,
        digitable_line=_bank_line(barcode),
        bank_code=bank_code,
        bank_name=participant.name if participant else None,
        segment=None,
        segment_name=None,
        amount=_amount(barcode[9:19]),
        due_date=_due_date(int(barcode[5:9]), today),
        currency=barcode[3],
        value_type=None,
        company_id=None,
        free_field=barcode[19:44],
    )


def _utility_bill(barcode: str) -> Bill:
    segment, value_type = barcode[1], barcode[2]
    if segment not in SEGMENTS:
        raise InvalidBarcode(f"segment {segment} is not a FEBRABAN segment")
    _check_value_type(value_type)
    check = _utility_check(value_type)
    _expect("general", barcode[3], check(barcode[:3] + barcode[4:]))
    company_end = 23 if segment == _CNPJ_SEGMENT else 19
    return Bill(
        type="UTILITY",
        barcode=barcode,
        digitable_line=_utility_line(barcode),
        bank_code=None,
        bank_name=None,
        segment=segment,
        segment_name=SEGMENTS[segment],
        amount=_amount(barcode[4:15]) if value_type in _REAL_VALUE_TYPES else None,
        due_date=None,
        currency=None,
        value_type=value_type,
        company_id=barcode[15:company_end],
        free_field=barcode[company_end:],
    )


def _amount(cents: str) -> Decimal | None:
    value = int(cents)
    return Decimal(value).scaleb(-2) if value else None


def _due_date(factor: int, today: date) -> date | None:
    if factor == 0:
        return None
    first = FACTOR_BASE + timedelta(days=factor)
    if factor < 1000:  # only the first cycle had factors below 1000
        return first
    cycles = max(0, ((today - first).days + FACTOR_CYCLE_DAYS // 2) // FACTOR_CYCLE_DAYS)
    return first + timedelta(days=cycles * FACTOR_CYCLE_DAYS)


def check_amount(bill: Bill, amount: Decimal | None) -> None:
    """Raise AmountMismatch when `amount` is given and differs from the amount the slip encodes."""
    if amount is None or bill.amount is None or amount == bill.amount:
        return
    raise AmountMismatch(
        f"amount {amount} differs from the {bill.amount} encoded in the barcode",
        details={"expected": str(bill.amount), "given": str(amount)},
    )


# --- building (tests, demo seed) --------------------------------------------------------------


def _bank_line(barcode: str) -> str:
    field1 = barcode[0:4] + barcode[19:24]
    field2 = barcode[24:34]
    field3 = barcode[34:44]
    return (
        f"{field1}{_mod10(field1)}{field2}{_mod10(field2)}{field3}{_mod10(field3)}{barcode[4]}{barcode[5:19]}"
    )


def _utility_line(barcode: str) -> str:
    check = _utility_check(barcode[2])
    blocks = [barcode[i : i + 11] for i in range(0, 44, 11)]
    return "".join(f"{block}{check(block)}" for block in blocks)


def _require_digits(name: str, value: str, length: int) -> None:
    if len(value) != length or not _ASCII_DIGITS.fullmatch(value):
        raise ValueError(f"{name} must be {length} digits, got {value!r}")


def _cents(amount: Decimal | None, width: int) -> str:
    if amount is None:
        return "0" * width
    cents = amount * 100
    if amount < 0 or cents != cents.to_integral_value() or cents >= 10**width:
        raise ValueError(f"amount {amount} does not fit {width} digits of cents")
    return f"{int(cents):0{width}d}"


def _factor(due_date: date | None) -> int:
    if due_date is None:
        return 0
    days = (due_date - FACTOR_BASE).days
    if days < 1:
        raise ValueError(f"due date {due_date} is before the factor base {FACTOR_BASE}")
    if days > 9999:
        days = (days - 1000) % FACTOR_CYCLE_DAYS + 1000
    return days


def build_bank_line(
    bank_code: str, amount: Decimal | None, due_date: date | None, free_field: str, *, currency: str = "9"
) -> str:
    """A valid 47-digit bank line (no amount: None; no due date: None, factor 0000)."""
    _require_digits("bank_code", bank_code, 3)
    _require_digits("currency", currency, 1)
    _require_digits("free_field", free_field, 25)
    if bank_code[0] == "8":
        raise ValueError("bank codes starting with 8 are reserved for utility slips")
    body = f"{_factor(due_date):04d}{_cents(amount, 10)}{free_field}"
    general = _mod11_bank(bank_code + currency + body)
    return _bank_line(f"{bank_code}{currency}{general}{body}")


def build_utility_line(
    segment: str,
    amount: Decimal | None,
    company_id: str,
    free_field: str,
    mod: Literal[10, 11] = 10,
) -> str:
    """A valid 48-digit utility line with the amount in reais (value type 6 for mod 10, 8 for mod 11).

    `company_id` has 4 digits (8, a CNPJ root, for segment 6) and `free_field` the rest: 25 (or 21).
    """
    if segment not in SEGMENTS:
        raise ValueError(f"segment {segment!r} is not a FEBRABAN segment")
    if mod not in (10, 11):
        raise ValueError(f"mod must be 10 or 11, got {mod!r}")
    company_length = 8 if segment == _CNPJ_SEGMENT else 4
    _require_digits("company_id", company_id, company_length)
    _require_digits("free_field", free_field, 29 - company_length)
    value_type = "6" if mod == 10 else "8"
    body = f"{_cents(amount, 11)}{company_id}{free_field}"
    general = _utility_check(value_type)(f"8{segment}{value_type}{body}")
    return _utility_line(f"8{segment}{value_type}{general}{body}")
