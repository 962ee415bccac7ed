from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laura.core.documents import cnpj_check_digits, cpf_check_digits
from laura.core.errors import AppError
from laura.pix.errors import InvalidPixKey
from laura.pix.keys import PixKey, PixKeyType, parse_pix_key

CPF, CNPJ, EMAIL, PHONE, EVP = PixKeyType

# 119876543 + its CPF check digits: a valid CPF that is also a valid São Paulo mobile number.
CPF_LOOKING_LIKE_MOBILE = "119876543" + cpf_check_digits("119876543")


@pytest.mark.parametrize(
    ("text", "key_type", "value"),
    [
        ("123.456.789-09", CPF, "12345678909"),
        ("12345678909", CPF, "12345678909"),
        (" 123 456 789 09 ", CPF, "12345678909"),
        ("11.222.333/0001-81", CNPJ, "11222333000181"),
        ("11222333000181", CNPJ, "11222333000181"),
        ("12.ABC.345/01DE-35", CNPJ, "12ABC34501DE35"),
        ("12abc34501de35", CNPJ, "12ABC34501DE35"),
        ("Fulano.Silva@Example.COM", EMAIL, "fulano.silva@example.com"),
        ("(11) 98765-4321", PHONE, "+5511987654321"),
        ("11987654321", PHONE, "+5511987654321"),
        ("+55 11 98765-4321", PHONE, "+5511987654321"),
        ("+5511987654321", PHONE, "+5511987654321"),
        ("5511987654321", PHONE, "+5511987654321"),
        ("(11) 3333-4444", PHONE, "+551133334444"),
        ("1133334444", PHONE, "+551133334444"),
        ("123E4567-E89B-12D3-A456-426614174000", EVP, "123e4567-e89b-12d3-a456-426614174000"),
    ],
)
def test_detects_type_and_normalizes(text: str, key_type: PixKeyType, value: str) -> None:
    assert parse_pix_key(text) == PixKey(key_type, value)


def test_eleven_digits_that_pass_the_cpf_check_are_a_cpf_as_in_dict() -> None:
    assert parse_pix_key(CPF_LOOKING_LIKE_MOBILE).type is CPF
    assert parse_pix_key("+55" + CPF_LOOKING_LIKE_MOBILE).type is PHONE
    assert parse_pix_key("(11) 98765-" + CPF_LOOKING_LIKE_MOBILE[-4:]).type is PHONE
    assert parse_pix_key(CPF_LOOKING_LIKE_MOBILE, PHONE) == PixKey(PHONE, "+55" + CPF_LOOKING_LIKE_MOBILE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The Pix key is empty"),
        ("   ", "The Pix key is empty"),
        ("12345678900", "Looks like a CPF but its check digits are wrong"),
        ("111.111.111-11", "Looks like a CPF but all its digits are equal"),
        ("11.222.333/0001-82", "Looks like a CNPJ but its check digits are wrong"),
        (
            "12.ABC.345/01DE-3X",
            "Looks like a CNPJ but its last two characters (the check digits) must be digits",
        ),
        ("11.222.333/0001", "Looks like a CNPJ but it has 12 characters instead of 14"),
        ("fulano@", "Looks like an e-mail but it is not a valid address"),
        (
            "a" * 70 + "@example.com",
            "Looks like an e-mail but it has 82 characters and Pix allows at most 77",
        ),
        (
            "+1 415 555 2671",
            "Looks like a phone number but its country code is +1 and Pix phone keys must be +55",
        ),
        ("(11) 8765-4321", "Looks like a phone number but it is not a valid Brazilian number"),
        ("123e4567-e89b", "Looks like a random key (EVP) but it must be a UUID"),
        ("12345", "Not a Pix key: expected a CPF (11 digits)"),
        ("abc", "Not a Pix key"),
    ],
)
def test_rejects_with_what_it_looked_like_and_what_failed(text: str, message: str) -> None:
    with pytest.raises(InvalidPixKey) as caught:
        parse_pix_key(text)
    assert caught.value.message.startswith(message)


def test_expected_type_is_checked_instead_of_detected() -> None:
    assert parse_pix_key("11222333000181", CNPJ).value == "11222333000181"
    with pytest.raises(
        InvalidPixKey, match=r"^Expected a phone number but it is not a valid Brazilian number"
    ):
        parse_pix_key("12345678909", PHONE)
    with pytest.raises(InvalidPixKey, match=r"^Expected a CPF but it has 14 digits instead of 11"):
        parse_pix_key("11222333000181", CPF)
    with pytest.raises(InvalidPixKey, match=r"^Expected an e-mail but it is not a valid address"):
        parse_pix_key("12345678909", EMAIL)


def test_error_is_an_app_error_with_the_wire_fields() -> None:
    with pytest.raises(AppError) as caught:
        parse_pix_key("nope")
    error = caught.value
    assert isinstance(error, InvalidPixKey)
    assert (error.error, error.status, error.code) == ("INVALID_PIX_KEY", 400, "PIX_001")
    assert error.body("req-1")["message"] == error.message


def test_types_and_keys() -> None:
    assert [t.value for t in PixKeyType] == [t.name for t in PixKeyType]
    key = parse_pix_key("12345678909")
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.value = "x"  # type: ignore[misc]


def _flip(value: str, position: int, replacement: str) -> str:
    return value[:position] + replacement + value[position + 1 :]


cpf_bodies = st.text("0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1)
cnpj_bodies = st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12).filter(
    lambda s: len(set(s)) > 1
)


@given(cpf_bodies)
def test_generated_cpfs_validate_in_any_format(body: str) -> None:
    cpf = body + cpf_check_digits(body)
    formatted = f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
    assert parse_pix_key(cpf) == PixKey(CPF, cpf)
    assert parse_pix_key(formatted) == PixKey(CPF, cpf)


@given(cpf_bodies, st.sampled_from([9, 10]), st.integers(1, 9))
def test_a_cpf_with_one_check_digit_changed_fails(body: str, position: int, shift: int) -> None:
    cpf = body + cpf_check_digits(body)
    wrong = _flip(cpf, position, str((int(cpf[position]) + shift) % 10))
    with pytest.raises(InvalidPixKey, match=r"^Expected a CPF but its check digits are wrong$"):
        parse_pix_key(wrong, CPF)
    try:
        detected = parse_pix_key(wrong)
    except InvalidPixKey as error:
        assert error.message == "Looks like a CPF but its check digits are wrong"
    else:  # the rule's one exception: 11 digits failing the CPF check that form a valid mobile number
        assert detected.type is PHONE


@given(cnpj_bodies, st.booleans())
def test_generated_cnpjs_validate_numeric_and_alphanumeric(body: str, lower: bool) -> None:
    cnpj = body + cnpj_check_digits(body)
    formatted = f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"
    assert parse_pix_key(cnpj.lower() if lower else cnpj) == PixKey(CNPJ, cnpj)
    assert parse_pix_key(formatted) == PixKey(CNPJ, cnpj)


@given(cnpj_bodies, st.sampled_from([12, 13]), st.integers(1, 9))
def test_a_cnpj_with_one_check_digit_changed_fails(body: str, position: int, shift: int) -> None:
    cnpj = body + cnpj_check_digits(body)
    wrong = _flip(cnpj, position, str((int(cnpj[position]) + shift) % 10))
    with pytest.raises(InvalidPixKey, match=r"^Looks like a CNPJ but its check digits are wrong$"):
        parse_pix_key(wrong)
