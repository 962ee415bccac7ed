"""Pix keys (chaves Pix): tell the type, validate, and normalize to the form DICT stores and compares.

Normalized forms: CPF 11 digits, CNPJ 14 upper-case characters (the alphanumeric CNPJ of July 2026
included), EMAIL lower case (at most 77 characters), PHONE E.164 ``+55`` + area code + number,
EVP a lower-case UUID.

When no type is given, the first matching rule decides:

1. it has an ``@``: EMAIL;
2. it starts like a UUID (8 hex digits and a hyphen): EVP;
3. it has phone punctuation (a leading ``+``, parentheses, or ``-`` and 4 digits at the end, as in
   ``98765-4321``): PHONE;
4. it has 14 characters once punctuation is dropped, or a slash (``12.ABC.345/01DE-35``): CNPJ,
   numeric or alphanumeric;
5. it has only digits: 11 is a CPF, as DICT reads 11 digits, unless its CPF check digits fail and it
   is a valid Brazilian mobile number, then PHONE; 10, 12 or 13 is a PHONE (a landline, or a number
   with ``55`` in front).

So a bare ``11987654321`` whose digits also pass the CPF check is a CPF; write such a phone with
``+55`` or with its usual punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from laura.core.documents import normalize_cnpj, normalize_cpf
from laura.pix.errors import InvalidPixKey

EMAIL_MAX_LENGTH = 77

_SEPARATORS = re.compile(r"[\s.\-/()]")
_EVP = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_EVP_LIKE = re.compile(r"^[0-9a-f]{8}-", re.IGNORECASE)
_PHONE_HINT = re.compile(r"^\+|[()]|-\s*[0-9]{4}$")
_PHONE_CHARS = re.compile(r"^[0-9+()\s.\-]+$")


class PixKeyType(StrEnum):
    CPF = "CPF"
    CNPJ = "CNPJ"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    EVP = "EVP"


@dataclass(frozen=True)
class PixKey:
    type: PixKeyType
    value: str


class _Rejected(Exception):
    """Why a text is not a valid key of one type; parse_pix_key turns it into InvalidPixKey."""


def _cpf(text: str) -> str:
    value = normalize_cpf(text)
    if value:
        return value
    digits = _SEPARATORS.sub("", text)
    if not re.fullmatch(r"[0-9]*", digits):
        raise _Rejected("it may hold only digits, dots, a hyphen and spaces")
    if len(digits) != 11:
        raise _Rejected(f"it has {len(digits)} digits instead of 11")
    if digits == digits[0] * 11:
        raise _Rejected("all its digits are equal")
    raise _Rejected("its check digits are wrong")


def _cnpj(text: str) -> str:
    value = normalize_cnpj(text)
    if value:
        return value
    body = _SEPARATORS.sub("", text).upper()
    if not re.fullmatch(r"[0-9A-Z]*", body):
        raise _Rejected("it may hold only letters, digits, dots, a slash, a hyphen and spaces")
    if len(body) != 14:
        raise _Rejected(f"it has {len(body)} characters instead of 14")
    if not body[12:].isdigit():
        raise _Rejected("its last two characters (the check digits) must be digits")
    if body == body[0] * 14:
        raise _Rejected("all its characters are equal")
    raise _Rejected("its check digits are wrong")


def _email(text: str) -> str:
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise _Rejected(f"it is not a valid address: {exc}") from None
    value = (result.ascii_email or result.normalized).lower()  # always ASCII here: allow_smtputf8=False
    if len(value) > EMAIL_MAX_LENGTH:
        raise _Rejected(f"it has {len(value)} characters and Pix allows at most {EMAIL_MAX_LENGTH}")
    return value


def _phone(text: str) -> str:
    if not _PHONE_CHARS.match(text):
        raise _Rejected("it may hold only digits, a leading +, parentheses, spaces and hyphens")
    try:
        number = phonenumbers.parse(text, "BR")
    except phonenumbers.NumberParseException:
        raise _Rejected("it cannot be read as a phone number") from None
    if number.country_code != 55:
        raise _Rejected(f"its country code is +{number.country_code} and Pix phone keys must be +55")
    if not phonenumbers.is_valid_number(number):
        raise _Rejected("it is not a valid Brazilian number (a 2-digit area code and 8 or 9 digits)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _evp(text: str) -> str:
    if not _EVP.match(text):
        raise _Rejected("it must be a UUID such as 123e4567-e89b-12d3-a456-426614174000")
    return text.lower()


_VALIDATORS: dict[PixKeyType, Callable[[str], str]] = {
    PixKeyType.CPF: _cpf,
    PixKeyType.CNPJ: _cnpj,
    PixKeyType.EMAIL: _email,
    PixKeyType.PHONE: _phone,
    PixKeyType.EVP: _evp,
}

_LABELS = {
    PixKeyType.CPF: "a CPF",
    PixKeyType.CNPJ: "a CNPJ",
    PixKeyType.EMAIL: "an e-mail",
    PixKeyType.PHONE: "a phone number",
    PixKeyType.EVP: "a random key (EVP)",
}


def _is_valid(key_type: PixKeyType, text: str) -> bool:
    try:
        _VALIDATORS[key_type](text)
    except _Rejected:
        return False
    return True


def _detect(text: str) -> PixKeyType:
    if "@" in text:
        return PixKeyType.EMAIL
    if _EVP_LIKE.match(text):
        return PixKeyType.EVP
    if _PHONE_HINT.search(text):
        return PixKeyType.PHONE
    compact = _SEPARATORS.sub("", text)
    if len(compact) == 14 or "/" in text:
        return PixKeyType.CNPJ
    if re.fullmatch(r"[0-9]{11}", compact):
        if not _is_valid(PixKeyType.CPF, text) and _is_valid(PixKeyType.PHONE, text):
            return PixKeyType.PHONE
        return PixKeyType.CPF
    if re.fullmatch(r"[0-9]{10}|[0-9]{12,13}", compact):
        return PixKeyType.PHONE
    raise InvalidPixKey(
        "Not a Pix key: expected a CPF (11 digits), a CNPJ (14 characters), an e-mail, "
        "a phone number (+55 and area code) or a random key (UUID)"
    )


def parse_pix_key(text: str, expected_type: PixKeyType | None = None) -> PixKey:
    """Validate a key as a user typed it and return its normalized form, the one stored and compared.

    Without `expected_type` the type is detected by the rules in this module's docstring.
    Raises InvalidPixKey saying which type the key looked like and what failed.
    """
    text = (text or "").strip()
    if not text:
        raise InvalidPixKey("The Pix key is empty")
    key_type = expected_type or _detect(text)
    try:
        value = _VALIDATORS[key_type](text)
    except _Rejected as exc:
        lead = "Expected" if expected_type else "Looks like"
        raise InvalidPixKey(f"{lead} {_LABELS[key_type]} but {exc}") from None
    return PixKey(key_type, value)
