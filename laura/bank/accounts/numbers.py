"""Account numbers: a 6-digit sequence plus one mod-11 check digit, shown as `123456-7`.

Mod 11 as most Brazilian banks use it: weights 2..9 from the rightmost digit, cycling; the digit is
11 - (sum mod 11), and 10 or 11 become 0.
"""

from __future__ import annotations

AGENCY = "0001"


def check_digit(body: str) -> str:
    """The mod-11 check digit of an account body."""
    total = sum(int(char) * (2 + i % 8) for i, char in enumerate(reversed(body)))
    digit = 11 - total % 11
    return "0" if digit >= 10 else str(digit)


def account_number(sequence: int) -> str:
    """The displayed number for the n-th account: zero-padded body, hyphen, check digit."""
    body = f"{sequence:06d}"
    return f"{body}-{check_digit(body)}"


def is_valid_account_number(number: str) -> bool:
    """Whether `123456-7` (or `1234567`) carries the right check digit."""
    digits = number.replace("-", "")
    return len(digits) >= 2 and digits.isdigit() and check_digit(digits[:-1]) == digits[-1]
