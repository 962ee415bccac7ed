from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laura.core.documents import cpf_check_digits
from laura.pix.brcode import BrCode, build_brcode, crc16, parse_brcode
from laura.pix.errors import InvalidBrCode, InvalidPixKey

# The static and dynamic examples of Banco Central's "Manual de Padrões para Iniciação do Pix".
BCB_STATIC = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
BCB_DYNAMIC = (
    "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4"
)
# A dynamic code as Efí's API returns it in `pixCopiaECola`: the GUI in upper case.
EFI_DYNAMIC = (
    "00020101021226830014BR.GOV.BCB.PIX2561qrcodespix.sejaefi.com.br/v2/b3e136a97ea346f1a1747ca934d2e7a0"
    "5204000053039865802BR5905EFISA6008SAOPAULO62070503***6304D03A"
)
# Efí's SDK examples paste this one: it has no CRC at all (and a broken field 53).
EFI_SDK_SAMPLE = (
    "00020101021226830014BR.GOV.BCB.PIX2561qrcodespix.sejaefi.com.br/v2/41e0badf811a4ce6ad8a80b306821fce"
    "5204000053000065802BR5905EFISA6008SAOPAULO60070503***61040000"
)


def with_crc(body: str) -> str:
    """A payload whose CRC was recomputed after editing, so only the edit itself is wrong."""
    return body + "6304" + crc16(body + "6304")


def edited(payload: str, old: str, new: str) -> str:
    assert old in payload
    return with_crc(payload[:-8].replace(old, new, 1))


def test_crc16_is_ccitt_false() -> None:
    assert crc16("123456789") == "29B1"
    assert crc16(BCB_STATIC[:-4]) == "1D3D"


def test_parses_the_bcb_static_example() -> None:
    assert parse_brcode(BCB_STATIC) == BrCode(
        merchant_name="Fulano de Tal",
        merchant_city="BRASILIA",
        key="123e4567-e12b-12d1-a456-426655440000",
    )


def test_parses_the_bcb_dynamic_example() -> None:
    code = parse_brcode(BCB_DYNAMIC)
    assert code.location == "pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    assert (code.key, code.txid, code.point_of_initiation) == (None, None, "12")


def test_parses_upper_case_gui_lower_case_crc_and_surrounding_whitespace() -> None:
    code = parse_brcode(f"  {EFI_DYNAMIC[:-4]}{EFI_DYNAMIC[-4:].lower()}\n")
    assert code.location == "qrcodespix.sejaefi.com.br/v2/b3e136a97ea346f1a1747ca934d2e7a0"
    assert (code.merchant_name, code.merchant_city) == ("EFISA", "SAOPAULO")


def test_parses_amount_description_and_txid() -> None:
    payload = with_crc(
        "00020126440014br.gov.bcb.pix0111123456789090207Corrida"
        "5204000053039865406150.005802BR5905LAURA6009SAO PAULO62100506RIDE42"
    )
    code = parse_brcode(payload)
    assert (code.key, code.description, code.txid) == ("12345678909", "Corrida", "RIDE42")
    assert code.amount == Decimal("150.00") and isinstance(code.amount, Decimal)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "The payload does not end with its CRC (field 63: 6304 and 4 hex digits)"),
        (EFI_SDK_SAMPLE, "The payload does not end with its CRC (field 63: 6304 and 4 hex digits)"),
        (
            BCB_STATIC[:-1] + "E",
            "The CRC does not match: the payload ends with 1D3E but its content gives 1D3D",
        ),
        (
            BCB_STATIC.replace("Fulano", "Fulana"),
            "The CRC does not match: the payload ends with 1D3D but its content gives",
        ),
        (
            # The "known good" example quoted in our brief: its CRC does not verify.
            (
                "00020101021226830014BR.GOV.BCB.PIX2561qrcodespix.sejaefi.com.br/v2/41e0badf811a4ce6ad8a80b306821fce"
                "5204000053039865802BR5905EFISA6008SAOPAULO62070503***630415AB"
            ),
            "The CRC does not match: the payload ends with 15AB but its content gives F7A2",
        ),
        ("63041D3D", "The payload holds nothing but a CRC"),
        (
            edited(BCB_STATIC, "5913Fulano de Tal", "5912Fulano de Tal"),
            (
                "Expected a field id and length (4 digits) at position 105 of the payload before its CRC, "
                "found 'l600' (is the length of field 59 right?)"
            ),
        ),
        (
            edited(BCB_STATIC, "62070503***", "62080503***"),
            (
                "Field 62 (additional data) declares 8 characters but only 7 remain "
                "in the payload before its CRC"
            ),
        ),
        (
            edited(BCB_STATIC, "0136123e4567", "0137123e4567"),
            "Field 26-01 declares 37 characters but only 36 remain in field 26",
        ),
        (edited(BCB_STATIC, "5802BR", "5802BR5800"), "Field 58 (country code) has length 00"),
        (edited(BCB_STATIC, "5802BR", "5802BR5802BR"), "Field 58 (country code) appears twice"),
        (edited(BCB_STATIC, "5802BR", ""), "Field 58 (country code) is missing"),
        (edited(BCB_STATIC, "5913Fulano de Tal", ""), "Field 59 (merchant name) is missing"),
        (edited(BCB_STATIC, "000201", ""), "The payload must start with field 00 (payload format indicator)"),
        (
            edited(BCB_STATIC, "000201", "000202"),
            "Field 00 (payload format indicator) must be 01, found '02'",
        ),
        (
            edited(BCB_STATIC, "5303986", "5303840"),
            "Field 53 (transaction currency) must be 986, found '840'",
        ),
        (edited(BCB_STATIC, "5802BR", "5802AR"), "Field 58 (country code) must be BR, found 'AR'"),
        (edited(BCB_STATIC, "52040000", "5203000"), "Field 52 (merchant category code) must be 4 digits"),
        (
            edited(BCB_STATIC, "000201", "000201010213"),
            "Field 01 (point of initiation method) must be 11 or 12",
        ),
        (
            edited(BCB_STATIC, "5913Fulano de Tal", "5926FULANO DE TAL DA SILVA SAU"),
            "Field 59 (merchant name) has 26 characters; at most 25",
        ),
        (edited(BCB_STATIC, "5802BR", "54041,505802BR"), "Field 54 (transaction amount) must be digits"),
        (
            edited(BCB_STATIC, "5802BR", "54040.005802BR"),
            "Field 54 (transaction amount) must be greater than zero",
        ),
        (
            edited(BCB_STATIC, "br.gov.bcb.pix", "br.gov.bcb.pox"),
            "No merchant account (fields 26 to 51) holds the Pix GUI br.gov.bcb.pix",
        ),
        (
            edited(
                BCB_STATIC, "26580014br.gov.bcb.pix0136", "26790014br.gov.bcb.pix2517pix.example.com/10136"
            ),
            "The Pix merchant account must hold either a key (01) or a location (25)",
        ),
    ],
)
def test_corrupted_payloads_say_exactly_what_is_wrong(payload: str, message: str) -> None:
    with pytest.raises(InvalidBrCode) as caught:
        parse_brcode(payload)
    assert caught.value.message.startswith(message)
    assert (caught.value.error, caught.value.status, caught.value.code) == ("INVALID_BR_CODE", 400, "PIX_002")


def test_builds_the_bcb_examples_field_for_field() -> None:
    static = build_brcode(
        key="123e4567-e12b-12d1-a456-426655440000", merchant_name="Fulano de Tal", merchant_city="Brasília"
    )
    assert static == edited(BCB_STATIC, "Fulano de Tal", "FULANO DE TAL")
    dynamic = build_brcode(
        location="https://pix.example.com/8b3da2f39a4140d1a91abd93113bd441",
        merchant_name="Fulano de Tal",
        merchant_city="BRASILIA",
        point_of_initiation="12",
    )
    assert dynamic == edited(BCB_DYNAMIC, "Fulano de Tal", "FULANO DE TAL")


def test_build_normalizes_key_names_description_and_amount() -> None:
    payload = build_brcode(
        key="(11) 98765-4321",
        merchant_name="Laura Instituição de Pagamento",
        merchant_city="São José dos Campos",
        amount=Decimal(150),
        description="Corrida nº 42 — café",
        txid="RIDE42",
    )
    assert parse_brcode(payload) == BrCode(
        merchant_name="LAURA INSTITUICAO DE PAGA",
        merchant_city="SAO JOSE DOS CA",
        key="+5511987654321",
        amount=Decimal("150.00"),
        description="Corrida no 42 cafe",
        txid="RIDE42",
    )
    assert "5406150.00" in payload


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, InvalidBrCode, "A BR Code needs exactly one of a Pix key (static) and a location (dynamic)"),
        ({"key": "12345678909", "location": "x.com/1"}, InvalidBrCode, "A BR Code needs exactly one"),
        ({"key": "12345678900"}, InvalidPixKey, "Looks like a CPF but its check digits are wrong"),
        ({"location": "https://"}, InvalidBrCode, "The location of a dynamic BR Code is empty"),
        ({"key": "12345678909", "amount": Decimal(0)}, InvalidBrCode, "The amount must be positive"),
        ({"key": "12345678909", "amount": Decimal("1.005")}, InvalidBrCode, "The amount must be positive"),
        (
            {"key": "12345678909", "amount": Decimal(12345678901)},
            InvalidBrCode,
            "The amount 12345678901.00 is longer than the 13 characters of field 54",
        ),
        ({"key": "12345678909", "amount": 1.5}, TypeError, "amount must be a Decimal, never a float"),
        ({"key": "12345678909", "txid": "ride-42"}, InvalidBrCode, "The txid of a BR Code must be 1 to 25"),
        (
            {"key": "12345678909", "point_of_initiation": "13"},
            InvalidBrCode,
            "The point of initiation must be",
        ),
        ({"key": "12345678909", "merchant_name": "★"}, InvalidBrCode, "The merchant name is empty"),
        (
            {"key": "123e4567-e12b-12d1-a456-426655440000", "description": "x" * 40},
            InvalidBrCode,
            "Field 26 (merchant account information) would have 102 characters; EMV allows at most 99",
        ),
    ],
)
def test_build_rejects_bad_input(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        build_brcode(**{"merchant_name": "LAURA", "merchant_city": "SAO PAULO", **kwargs})
    assert str(caught.value).startswith(message)


def _cpf(body: str) -> str:
    return body + cpf_check_digits(body)


keys = st.one_of(
    st.uuids().map(str),
    st.text("0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1).map(_cpf),
    st.from_regex(r"[a-z0-9]{1,30}@[a-z]{1,20}\.com\.br", fullmatch=True),
    st.sampled_from(["+5511987654321", "+556133334444"]),
)
words = st.from_regex(r"[A-Za-z0-9.,:/*-]+( [A-Za-z0-9.,:/*-]+)*", fullmatch=True)
upper_words = st.from_regex(r"[A-Z0-9]+( [A-Z0-9]+)*", fullmatch=True)
amounts = st.none() | st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2)
common = {
    "merchant_name": upper_words.filter(lambda s: len(s) <= 25),
    "merchant_city": upper_words.filter(lambda s: len(s) <= 15),
    "amount": amounts,
    "txid": st.none() | st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True),
    "point_of_initiation": st.sampled_from([None, "11", "12"]),
}


@given(st.data(), keys, st.fixed_dictionaries(common))
def test_static_round_trip(data: st.DataObject, key: str, fields: dict) -> None:
    room = 99 - len("0014br.gov.bcb.pix") - 4 - len(key) - 4
    description = data.draw(st.none() | words.filter(lambda s: len(s) <= room))
    code = BrCode(key=key, description=description, **fields)
    assert parse_brcode(build_brcode(**dataclasses.asdict(code))) == code


@given(st.from_regex(r"[a-z0-9.]{1,20}\.com/[a-z0-9/]{1,40}", fullmatch=True), st.fixed_dictionaries(common))
def test_dynamic_round_trip(location: str, fields: dict) -> None:
    code = BrCode(location=location, **fields)
    assert parse_brcode(build_brcode(**dataclasses.asdict(code))) == code
