from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from laura.mobility.categories import VehicleCategory
from laura.mobility.people.validation import (
    _cnh_check_digits,
    normalize_cnh,
    normalize_plate,
    vehicle_year_allowed,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("65821310502", "65821310502"),
        ("658 213 105 02", "65821310502"),
        ("10764125809", "10764125809"),
        ("77625261946", "77625261946"),  # second digit carries the correction of 2
        ("78623161668", None),
        ("65821310503", None),
        ("00000000000", None),
        ("6582131050", None),
        ("658213105021", None),
        ("6582131050a", None),
        ("", None),
    ],
)
def test_normalize_cnh(text, expected):
    assert normalize_cnh(text) == expected


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_generated_cnh_round_trips_and_any_single_digit_change_is_caught(first_nine):
    cnh = first_nine + _cnh_check_digits(first_nine)
    if len(set(cnh)) == 1:
        assert normalize_cnh(cnh) is None
        return
    assert normalize_cnh(cnh) == cnh
    for position in (9, 10):
        wrong = cnh[:position] + str((int(cnh[position]) + 1) % 10) + cnh[position + 1 :]
        assert normalize_cnh(wrong) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ABC1234", "ABC1234"),
        ("abc-1234", "ABC1234"),
        (" abc 1234 ", "ABC1234"),
        ("ABC1D23", "ABC1D23"),
        ("abc-1d23", "ABC1D23"),
        ("BRA2E19", "BRA2E19"),
        ("AB1234", None),
        ("ABCD123", None),
        ("ABC12345", None),
        ("A-BC1234", None),
        ("ABC--1234", None),
        ("ABC1DD3", None),
        ("1BC1234", None),
        ("", None),
    ],
)
def test_normalize_plate(text, expected):
    assert normalize_plate(text) == expected


TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("year", "category", "allowed"),
    [
        (2016, VehicleCategory.STANDARD, True),
        (2015, VehicleCategory.STANDARD, False),
        (2027, VehicleCategory.STANDARD, True),  # next year's model
        (2028, VehicleCategory.STANDARD, False),
        (2021, "premium", True),
        (2020, "premium", False),
        (2020, VehicleCategory.COMFORT, True),
        (2019, VehicleCategory.COMFORT, False),
        (2018, VehicleCategory.XL, True),
        (2025, "helicopter", False),
    ],
)
def test_vehicle_year_allowed(year, category, allowed):
    assert vehicle_year_allowed(year, category, TODAY) is allowed


def test_vehicle_year_allowed_with_a_custom_table():
    assert vehicle_year_allowed(2010, "standard", TODAY, {"standard": 20})
    assert not vehicle_year_allowed(2010, "comfort", TODAY, {"standard": 20})
