"""Document and vehicle checks for driver onboarding: CNH, licence plate, vehicle age.

CPF lives in `laura.core.documents.normalize_cpf`; these are the mobility-only documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from laura.mobility.categories import VehicleCategory

_CNH_TEXT = re.compile(r"^[0-9.\-\s]+$")
_PLATE = re.compile(r"^([A-Z]{3})\s*-?\s*([0-9][A-Z0-9][0-9]{2})$")

# Oldest vehicle (in years, counted as today's year minus the model year) each category accepts,
# in line with what Uber/99 ask in Brazilian capitals: older cars only for the basic product.
DEFAULT_MAX_VEHICLE_AGE: Mapping[str, int] = {
    VehicleCategory.STANDARD: 10,
    VehicleCategory.COMFORT: 6,
    VehicleCategory.PREMIUM: 5,
    VehicleCategory.XL: 8,
}


def _cnh_check_digits(first_nine: str) -> str:
    """DENATRAN's two check digits of a CNH registration number (RENACH "número de registro").

    1. d1 = sum(digit_i * w) with weights 9, 8, ..., 1 over the nine digits, mod 11. When that is
       10 or more, d1 becomes 0 and a correction of 2 is carried to the second digit.
    2. d2 = sum(digit_i * w) with weights 1, 2, ..., 9 over the same nine digits, mod 11, minus the
       correction (plus 11 when negative); 10 or more becomes 0.
    """
    first = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1))) % 11
    correction = 0
    if first >= 10:
        first, correction = 0, 2
    second = sum(int(d) * w for d, w in zip(first_nine, range(1, 10))) % 11 - correction
    if second < 0:
        second += 11
    if second >= 10:
        second = 0
    return f"{first}{second}"


def normalize_cnh(text: str) -> str | None:
    """The 11 digits of a CNH written with or without spaces/dots/dashes, or None when it is invalid.

    Rejects wrong lengths, repeated digits (00000000000 passes the arithmetic) and bad check digits.
    """
    if not text or not _CNH_TEXT.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) != 11 or digits == digits[0] * 11:
        return None
    return digits if _cnh_check_digits(digits[:9]) == digits[9:] else None


def normalize_plate(text: str) -> str | None:
    """A licence plate as stored and compared: `ABC1234` (old) or `ABC1D23` (Mercosul), else None.

    Accepts lower case, surrounding spaces and one hyphen or spaces between letters and digits
    (`abc-1234`, `ABC 1D23`), so the same car cannot register twice under two spellings.
    """
    match = _PLATE.match((text or "").strip().upper())
    return f"{match[1]}{match[2]}" if match else None


def vehicle_year_allowed(
    year: int,
    category: str,
    today: date,
    max_age_by_category: Mapping[str, int] = DEFAULT_MAX_VEHICLE_AGE,
) -> bool:
    """Whether a vehicle of model `year` may drive for `category`; unknown categories never may.

    A model year one ahead of the calendar is fine: Brazilian dealers sell next year's model from
    mid-year on.
    """
    max_age = max_age_by_category.get(category)
    if max_age is None:
        return False
    return -1 <= today.year - year <= max_age
