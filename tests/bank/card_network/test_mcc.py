"""The MCC table: the specific codes win over the broad ranges they sit in."""

from __future__ import annotations

import pytest

from laura.bank.card_network.mcc import Category, category_of


@pytest.mark.parametrize(
    ("mcc", "category"),
    [
        ("5411", Category.FOOD),  # supermarket
        ("5812", Category.FOOD),  # restaurant
        ("4121", Category.TRANSPORT),  # ride app
        ("5541", Category.TRANSPORT),  # fuel
        ("5912", Category.HEALTH),  # pharmacy
        ("8011", Category.HEALTH),
        ("4899", Category.LEISURE),  # streaming
        ("5815", Category.LEISURE),
        ("4900", Category.BILLS),
        ("4814", Category.BILLS),
        ("8220", Category.EDUCATION),
        ("3058", Category.TRAVEL),  # an airline
        ("4511", Category.TRAVEL),
        ("7011", Category.TRAVEL),
        ("5651", Category.SHOPPING),
        ("0742", Category.OTHER),
        ("6011", Category.OTHER),
    ],
)
def test_category_of(mcc: str, category: Category) -> None:
    assert category_of(mcc) is category
