"""Boletos: every check digit, decoding, the 2025 due-date factor reset, and the generators."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laura.bank.bills.barcode import (
    SEGMENTS,
    Bill,
    build_bank_line,
    build_utility_line,
    check_amount,
    parse_bill,
)
from laura.bank.bills.errors import AmountMismatch, InvalidBarcode

# --- known-good lines, checked by hand ----------------------------------------------------------

# Bradesco slip printed by BoletoPhp (due 2016-06-16, R$ 289,90).
#   field 1 "23791.1000" + 6: digits 2 3 7 9 1 1 0 0 0 times 2 1 2 1 2 1 2 1 2 (from the right)
#       = 4 3 14 9 2 1 0 0 0 -> digit sum 4+3+1+4+9+2+1 = 24 -> 10 - 4 = 6
#   field 2 "6000000007" + 9: 6x1 ... 7x2 = 6, 14 -> 6+1+4 = 11 -> 10 - 1 = 9
#   field 3 "8901020030" + 4: 8x1 9x2 0 1x2 0 2x2 0 0 3x1 0 = 8 18 2 4 3 -> 8+1+8+2+4+3 = 26 -> 4
#   general: barcode without position 5 = 2379 6827 0000028990 1100060000000078901020030,
#       weights 2..9 from the right: sum 546, 546 % 11 = 7, 11 - 7 = 4 (position 5 of the barcode)
#   factor 6827: 1997-10-07 + 6827 days = 2016-06-16; amount 0000028990 = 289.90
BRADESCO_LINE = "23791.10006 60000.000079 89010.200304 4 68270000028990"
BRADESCO_BARCODE = "23794682700000289901100060000000078901020030"

# Banco do Brasil slip used as the valid example by several open-source validators: factor 3737
# (2007-12-31), R$ 1,00.
BB_LINE = "00190500954014481606906809350314337370000000100"

# Energy bill (segment 3, value type 6: mod 10). Block 1 "83620000000" + 5:
#   8x2 3x1 6x2 2x1 0... = 16 3 12 2 -> 1+6+3+1+2+2 = 15 -> 10 - 5 = 5. Value 00000006678 = 66.78.
ENERGY_LINE = "836200000005 667800481000 180975657313 001589636081"

# Telecom bill (segment 4, value type 6), R$ 155,00, company 0296.
TELECOM_LINE = "84610000001-3 55000296202-9 20415003000-3 00422208750-6"

# FGTS guide (segment 5, value type 8: mod 11), R$ 114,08, company 0239. Block 1 "85890000001" + 8:
#   weights 4 3 2 9 8 7 6 5 4 3 2 -> 32 + 15 + 16 + 81 + 2 = 146, 146 % 11 = 3, 11 - 3 = 8.
#   General digit (position 4 = 9): the 43 other digits weigh 761, 761 % 11 = 2, 11 - 2 = 9.
FGTS_LINE = "85890000001-8 14080239201-1 91223352926-9 51287711872-3"


def test_bank_line_decodes_every_field() -> None:
    bill = parse_bill(BRADESCO_LINE, today=date(2016, 6, 1))
    assert bill == Bill(
        type="BANK",
        barcode=BRADESCO_BARCODE,
        digitable_line="23791100066000000007989010200304468270000028990",
        bank_code="237",
        bank_name="Banco Bradesco S.A.",
        segment=None,
        segment_name=None,
        amount=Decimal("289.90"),
        due_date=date(2016, 6, 16),
        currency="9",
        value_type=None,
        company_id=None,
        free_field="1100060000000078901020030",
    )
    assert str(bill.amount) == "289.90"


def test_barcode_and_line_give_the_same_bill() -> None:
    today = date(2016, 6, 1)
    assert parse_bill(BRADESCO_BARCODE, today=today) == parse_bill(BRADESCO_LINE, today=today)


def test_banco_do_brasil_line() -> None:
    bill = parse_bill(BB_LINE, today=date(2008, 1, 1))
    assert (bill.bank_code, bill.bank_name) == ("001", "Banco do Brasil S.A.")
    assert (bill.amount, bill.due_date) == (Decimal("1.00"), date(2007, 12, 31))


@pytest.mark.parametrize(
    ("line", "segment", "name", "value_type", "amount", "company"),
    [
        (ENERGY_LINE, "3", "Energia elétrica e gás", "6", Decimal("66.78"), "0048"),
        (TELECOM_LINE, "4", "Telecomunicações", "6", Decimal("155.00"), "0296"),
        (FGTS_LINE, "5", "Órgãos governamentais", "8", Decimal("114.08"), "0239"),
    ],
)
def test_utility_lines_mod10_and_mod11(
    line: str, segment: str, name: str, value_type: str, amount: Decimal, company: str
) -> None:
    bill = parse_bill(line)
    assert bill.type == "UTILITY"
    assert (bill.segment, bill.segment_name, bill.value_type) == (segment, name, value_type)
    assert (bill.amount, bill.company_id) == (amount, company)
    assert (bill.bank_code, bill.due_date) == (None, None)
    assert len(bill.barcode) == 44 and len(bill.digitable_line) == 48
    assert parse_bill(bill.barcode) == bill


def test_the_spec_example_is_not_a_boleto() -> None:
    # The spec's sample "34191.79001 01017 91020 150008 154500000123456" has 41 digits.
    with pytest.raises(InvalidBarcode, match="expected 44, 47 or 48 digits, got 41"):
        parse_bill("34191.79001 01017 91020 150008 154500000123456")


# --- an independent reading of the FEBRABAN rules, for building odd barcodes and judging flips ----


def _weighted_rest(digits: str) -> int:
    weights = [2, 3, 4, 5, 6, 7, 8, 9] * 6
    return sum(int(d) * w for d, w in zip(reversed(digits), weights, strict=False)) % 11


def _reference_digit(value_type: str, data: str) -> int:
    if value_type in "67":
        doubled = [int(d) * (2 - i % 2) for i, d in enumerate(reversed(data))]
        return -sum(p // 10 + p % 10 for p in doubled) % 10
    rest = _weighted_rest(data)
    return 0 if rest < 2 else 11 - rest


def _utility_barcode(segment: str, value_type: str, body: str) -> str:
    """A utility barcode with a correct general digit, whatever the segment and value type."""
    return f"8{segment}{value_type}{_reference_digit(value_type, f'8{segment}{value_type}{body}')}{body}"


def _reference_utility_valid(line: str) -> bool:
    value_type = line[2]
    if line[0] != "8" or line[1] not in SEGMENTS or value_type not in "6789":
        return False
    blocks = [line[i : i + 11] for i in range(0, 48, 12)]
    if any(
        _reference_digit(value_type, block) != int(line[i + 11])
        for i, block in zip(range(0, 48, 12), blocks, strict=True)
    ):
        return False
    barcode = "".join(blocks)
    return _reference_digit(value_type, barcode[:3] + barcode[4:]) == int(barcode[3])


# --- errors name the failing check ----------------------------------------------------------------


def _replace(line: str, index: int, digit: str) -> str:
    return line[:index] + digit + line[index + 1 :]


def _other_digit(digit: str) -> str:
    return str((int(digit) + 1) % 10)


BRADESCO_DIGITS = "23791100066000000007989010200304468270000028990"
FGTS_DIGITS = "858900000018140802392011912233529269512877118723"


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (9, r"field 1 check digit is 7, expected 6"),
        (20, r"field 2 check digit is 0, expected 9"),
        (31, r"field 3 check digit is 5, expected 4"),
        (32, r"general check digit is 5, expected 4"),
    ],
)
def test_bank_line_errors_name_the_check(index: int, message: str) -> None:
    line = _replace(BRADESCO_DIGITS, index, _other_digit(BRADESCO_DIGITS[index]))
    with pytest.raises(InvalidBarcode, match=message) as caught:
        parse_bill(line)
    assert (caught.value.status, caught.value.error, caught.value.code) == (400, "INVALID_BARCODE", "BIL_001")


def test_a_changed_amount_fails_the_general_check() -> None:
    line = _replace(BRADESCO_DIGITS, 42, "3")  # 289.90 -> 389.90: only the mod-11 digit covers it
    with pytest.raises(InvalidBarcode, match="general check digit is 4, expected"):
        parse_bill(line)


def test_bank_barcode_error_names_the_general_check() -> None:
    with pytest.raises(InvalidBarcode, match="general check digit is 5, expected 4"):
        parse_bill(_replace(BRADESCO_BARCODE, 4, "5"))


@pytest.mark.parametrize(("block", "index"), [(1, 11), (2, 23), (3, 35), (4, 47)])
def test_utility_line_errors_name_the_block(block: int, index: int) -> None:
    line = _replace(FGTS_DIGITS, index, _other_digit(FGTS_DIGITS[index]))
    with pytest.raises(
        InvalidBarcode, match=rf"block {block} check digit is \d, expected {FGTS_DIGITS[index]}"
    ):
        parse_bill(line)


def test_utility_barcode_error_names_the_general_check() -> None:
    barcode = parse_bill(FGTS_LINE).barcode
    with pytest.raises(InvalidBarcode, match="general check digit is 0, expected 9"):
        parse_bill(_replace(barcode, 3, "0"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1" * 45, "expected 44, 47 or 48 digits, got 45"),
        ("", "expected 44, 47 or 48 digits, got 0"),
        (BRADESCO_LINE.replace("2", "x", 1), "only digits"),
        ("٢" * 47, "only digits"),  # Arabic-Indic digits are not boleto digits
        ("8" + BRADESCO_DIGITS[1:], "cannot start with 8"),
        ("7" + FGTS_DIGITS[1:], "must start with 8, not 7"),
        (_replace(FGTS_DIGITS, 2, "5"), "value type identifier 5 is not 6, 7, 8 or 9"),
    ],
)
def test_malformed_input_is_rejected(text: str, message: str) -> None:
    with pytest.raises(InvalidBarcode, match=message):
        parse_bill(text)


@pytest.mark.parametrize("segment", ["0", "8"])
def test_undefined_segments_are_rejected(segment: str) -> None:
    with pytest.raises(InvalidBarcode, match=f"segment {segment} is not a FEBRABAN segment"):
        parse_bill(_utility_barcode(segment, "6", "00000001000" + "0001" + "0" * 25))


def test_separators_are_ignored() -> None:
    assert (
        parse_bill(" 2379 1.10006-60000.000079\t89010.200304 4 68270000028990 ").barcode == BRADESCO_BARCODE
    )


# --- amounts ---------------------------------------------------------------------------------------


def test_zero_amount_means_not_encoded() -> None:
    bill = parse_bill(build_bank_line("341", None, date(2026, 2, 20), "0" * 25), today=date(2026, 1, 1))
    assert bill.amount is None
    check_amount(bill, Decimal("154.50"))  # any amount may be paid


def test_check_amount() -> None:
    bill = parse_bill(BRADESCO_LINE, today=date(2016, 6, 1))
    check_amount(bill, Decimal("289.9"))
    check_amount(bill, None)
    with pytest.raises(AmountMismatch, match=r"289\.91") as caught:
        check_amount(bill, Decimal("289.91"))
    error = caught.value
    assert (error.status, error.error, error.code) == (422, "AMOUNT_MISMATCH", "BIL_002")
    assert error.details == {"expected": "289.90", "given": "289.91"}


def test_reference_value_types_have_no_amount() -> None:
    # Value types 7 and 9 ("quantidade de moeda"): the value field is an index quantity, not reais.
    for value_type in "79":
        bill = parse_bill(_utility_barcode("2", value_type, "00000001234" + "0101" + "5" * 25))
        assert (bill.value_type, bill.amount) == (value_type, None)


# --- the due-date factor and its 2025 reset ----------------------------------------------------------


def _factor(line: str) -> str:
    return line[33:37]


def test_factor_1000_after_the_reset_is_2025_02_22() -> None:
    line = build_bank_line("001", Decimal("10.00"), date(2025, 2, 22), "0" * 25)
    assert _factor(line) == "1000"
    assert parse_bill(line, today=date(2025, 2, 20)).due_date == date(2025, 2, 22)
    assert parse_bill(line, today=date(2025, 3, 30)).due_date == date(2025, 2, 22)


def test_factor_1000_in_2000_is_2000_07_03() -> None:
    line = build_bank_line("001", Decimal("10.00"), date(2000, 7, 3), "0" * 25)
    assert _factor(line) == "1000"
    assert parse_bill(line, today=date(2000, 7, 3)).due_date == date(2000, 7, 3)


def test_factor_9999_is_2025_02_21() -> None:
    line = build_bank_line("001", Decimal("10.00"), date(2025, 2, 21), "0" * 25)
    assert _factor(line) == "9999"
    assert parse_bill(line, today=date(2025, 2, 22)).due_date == date(2025, 2, 21)
    assert parse_bill(line, today=date(2025, 1, 10)).due_date == date(2025, 2, 21)


def test_the_nearest_cycle_wins() -> None:
    line = build_bank_line("001", Decimal("10.00"), date(2011, 6, 16), "0" * 25)
    assert _factor(line) == "5000"
    assert parse_bill(line, today=date(2011, 1, 1)).due_date == date(2011, 6, 16)
    assert parse_bill(line, today=date(2030, 1, 1)).due_date == date(2036, 2, 5)


def test_factor_zero_has_no_due_date_and_low_factors_are_first_cycle() -> None:
    assert _factor(build_bank_line("001", None, None, "0" * 25)) == "0000"
    assert parse_bill(build_bank_line("001", None, None, "0" * 25)).due_date is None
    old = build_bank_line("001", Decimal("1.00"), date(1999, 2, 19), "0" * 25)
    assert _factor(old) == "0500"
    assert parse_bill(old, today=date(2026, 1, 1)).due_date == date(1999, 2, 19)


# --- generators --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bank_code": "01", "amount": None, "due_date": None, "free_field": "0" * 25},
        {"bank_code": "850", "amount": None, "due_date": None, "free_field": "0" * 25},
        {"bank_code": "001", "amount": None, "due_date": None, "free_field": "0" * 24},
        {"bank_code": "001", "amount": Decimal("1.005"), "due_date": None, "free_field": "0" * 25},
        {"bank_code": "001", "amount": Decimal(-1), "due_date": None, "free_field": "0" * 25},
        {"bank_code": "001", "amount": Decimal("100000000.00"), "due_date": None, "free_field": "0" * 25},
        {"bank_code": "001", "amount": None, "due_date": date(1997, 10, 7), "free_field": "0" * 25},
    ],
)
def test_build_bank_line_rejects_bad_input(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        build_bank_line(**kwargs)


@pytest.mark.parametrize(
    ("segment", "company", "free", "mod"),
    [
        ("8", "0001", "0" * 25, 10),
        ("1", "001", "0" * 25, 10),
        ("6", "0001", "0" * 25, 10),  # segment 6 names the company by an 8-digit CNPJ root
        ("1", "0001", "0" * 25, 12),
    ],
)
def test_build_utility_line_rejects_bad_input(segment: str, company: str, free: str, mod: int) -> None:
    with pytest.raises(ValueError):
        build_utility_line(segment, Decimal("1.00"), company, free, mod=mod)  # type: ignore[arg-type]


# --- properties -----------------------------------------------------------------------------------

DIGITS = "0123456789"
bank_codes = st.from_regex(r"[0-79][0-9]{2}", fullmatch=True)
bank_amounts = st.one_of(st.none(), st.integers(1, 10**10 - 1).map(lambda c: Decimal(c).scaleb(-2)))
utility_amounts = st.one_of(st.none(), st.integers(1, 10**11 - 1).map(lambda c: Decimal(c).scaleb(-2)))
due_dates = st.one_of(st.none(), st.dates(date(2000, 7, 3), date(2060, 12, 31)))


def digit_strings(length: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=length, max_size=length)


@st.composite
def bank_slips(draw: st.DrawFn) -> tuple[str, str, Decimal | None, date | None, str]:
    code, amount, due, free = draw(bank_codes), draw(bank_amounts), draw(due_dates), draw(digit_strings(25))
    return build_bank_line(code, amount, due, free), code, amount, due, free


@st.composite
def utility_slips(draw: st.DrawFn) -> tuple[str, str, Decimal | None, str, str, int]:
    segment = draw(st.sampled_from(sorted(SEGMENTS)))
    company_length = 8 if segment == "6" else 4
    company, free = draw(digit_strings(company_length)), draw(digit_strings(29 - company_length))
    amount, mod = draw(utility_amounts), draw(st.sampled_from([10, 11]))
    return build_utility_line(segment, amount, company, free, mod=mod), segment, amount, company, free, mod


@given(bank_slips(), st.integers(-4499, 4499))
def test_generated_bank_lines_round_trip(slip: tuple, days_off: int) -> None:
    line, code, amount, due, free = slip
    today = (due or date(2026, 1, 1)) + timedelta(days=days_off)
    bill = parse_bill(line, today=today)
    assert (bill.type, bill.bank_code, bill.amount, bill.due_date, bill.free_field) == (
        "BANK",
        code,
        amount,
        due,
        free,
    )
    assert (bill.digitable_line, bill.currency) == (line, "9")
    fields = (line[:5], line[5:10], line[10:15], line[15:21], line[21:26], line[26:32], line[32], line[33:])
    formatted = "{}.{} {}.{} {}.{} {} {}".format(*fields)
    assert parse_bill(formatted, today=today) == bill
    assert parse_bill(bill.barcode, today=today) == bill


@given(utility_slips())
def test_generated_utility_lines_round_trip(slip: tuple) -> None:
    line, segment, amount, company, free, mod = slip
    bill = parse_bill(line)
    assert (bill.type, bill.segment, bill.amount, bill.company_id, bill.free_field) == (
        "UTILITY",
        segment,
        amount,
        company,
        free,
    )
    assert bill.value_type == ("6" if mod == 10 else "8")
    assert bill.digitable_line == line
    assert parse_bill(bill.barcode) == bill
    assert parse_bill("-".join(line[i : i + 12] for i in range(0, 48, 12))) == bill


@given(bank_slips(), st.data())
def test_a_flipped_digit_in_a_bank_line_is_rejected(slip: tuple, data: st.DataObject) -> None:
    line = slip[0]
    index = data.draw(st.integers(0, 46))
    flipped = _replace(line, index, data.draw(st.sampled_from(DIGITS.replace(line[index], ""))))
    if index < 33:  # fields 1-3 (mod 10) and the general digit itself: always caught
        with pytest.raises(InvalidBarcode):
            parse_bill(flipped)
        return
    # Field 5 (factor, amount) is covered by the mod-11 digit alone, which maps rests 0, 1 and 10
    # all to 1: a flip moving the rest inside that set is invisible to any validator.
    original = parse_bill(line).barcode
    changed = original[:5] + flipped[33:47] + original[19:]
    rests = {_weighted_rest(barcode[:4] + barcode[5:]) for barcode in (original, changed)}
    if rests <= {0, 1, 10}:
        assert parse_bill(flipped).barcode == changed
    else:
        with pytest.raises(InvalidBarcode, match="general check digit"):
            parse_bill(flipped)


@given(utility_slips(), st.data())
def test_a_flipped_digit_in_a_utility_line_is_rejected(slip: tuple, data: st.DataObject) -> None:
    line, mod = slip[0], slip[5]
    index = data.draw(st.integers(0, 47))
    flipped = _replace(line, index, data.draw(st.sampled_from(DIGITS.replace(line[index], ""))))
    if mod == 10 and index != 2:  # mod 10 sees every single-digit change in its block
        with pytest.raises(InvalidBarcode):
            parse_bill(flipped)
        return
    # Mod 11 (and a value type switched to mod 11) can collide: then the flipped line is itself valid.
    if _reference_utility_valid(flipped):
        assert parse_bill(flipped).digitable_line == flipped
    else:
        with pytest.raises(InvalidBarcode):
            parse_bill(flipped)


# --- cross-check with an independent implementation ------------------------------------------------


@given(bank_slips(), st.data())
def test_agrees_with_febraban_code(slip: tuple, data: st.DataObject) -> None:
    febraban_code = pytest.importorskip("febraban_code")
    line, _, amount, _, _ = slip
    bill = parse_bill(line)
    theirs = febraban_code.FebrabanCode(line)
    assert theirs.validate()
    assert theirs.get_bar() == bill.barcode
    assert Decimal(theirs.get_code_info()["value_factor"]).scaleb(-2) == (amount or Decimal("0.00"))
    index = data.draw(st.integers(1, 46))
    flipped = _replace(line, index, data.draw(st.sampled_from(DIGITS.replace(line[index], ""))))
    try:
        parse_bill(flipped)
        ours = True
    except InvalidBarcode:
        ours = False
    assert ours == febraban_code.FebrabanCode(flipped).validate()
