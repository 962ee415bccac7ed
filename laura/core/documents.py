"""Brazilian document numbers (CPF, CNPJ): normalization and check digits.

Written here rather than taken from a library because the packages on PyPI do not yet know the
alphanumeric CNPJ that Receita Federal issues from July 2026, and the algorithm is a dozen lines.
"""

from __future__ import annotations

import re

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_CNPJ_SHAPE = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")


def _strip(text: str) -> str:
    return _NON_ALNUM.sub("", text or "")


def _cpf_digit(digits: str) -> int:
    weight = len(digits) + 1
    total = sum(int(d) * (weight - i) for i, d in enumerate(digits))
    rest = (total * 10) % 11
    return 0 if rest == 10 else rest


def normalize_cpf(text: str) -> str | None:
    """The 11 digits of a CPF written with or without punctuation, or None when it is not a valid CPF."""
    if not text or re.search(r"[^0-9.\-\s]", text):
        return None
    digits = _strip(text)
    if len(digits) != 11 or digits == digits[0] * 11:
        return None
    if _cpf_digit(digits[:9]) != int(digits[9]) or _cpf_digit(digits[:10]) != int(digits[10]):
        return None
    return digits


def cpf_check_digits(first_nine: str) -> str:
    """The two check digits that complete a CPF's first nine digits (used by generators and seeds)."""
    first = _cpf_digit(first_nine)
    return f"{first}{_cpf_digit(first_nine + str(first))}"


def _cnpj_digit(body: str) -> int:
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum((ord(ch) - 48) * weights[i % 8] for i, ch in enumerate(reversed(body)))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def cnpj_check_digits(first_twelve: str) -> str:
    """The two check digits of a CNPJ body (numeric or alphanumeric, upper case)."""
    first = _cnpj_digit(first_twelve)
    return f"{first}{_cnpj_digit(first_twelve + str(first))}"


def normalize_cnpj(text: str) -> str | None:
    """The 14 characters of a CNPJ (numeric or the 2026 alphanumeric form), or None when invalid."""
    if not text or re.search(r"[^0-9A-Za-z./\-\s]", text):
        return None
    value = _strip(text).upper()
    if not _CNPJ_SHAPE.match(value) or value == value[0] * 14:
        return None
    if cnpj_check_digits(value[:12]) != value[12:]:
        return None
    return value
