"""The categories spending is counted in: a card purchase's (from its MCC, `card_network.mcc.Category`)
plus TRANSFERS, where outgoing Pix, TED and P2P land unless the customer tagged them with another.

The members are spelled as a class, each the value of its `Category`, so that type checkers know them
(the functional `StrEnum(...)` over `Category` would be `Any` to mypy); a test holds the two in step."""

from __future__ import annotations

from enum import StrEnum

from laura.bank.card_network.mcc import Category


class SpendingCategory(StrEnum):
    FOOD = Category.FOOD.value
    TRANSPORT = Category.TRANSPORT.value
    LEISURE = Category.LEISURE.value
    HEALTH = Category.HEALTH.value
    SHOPPING = Category.SHOPPING.value
    BILLS = Category.BILLS.value
    EDUCATION = Category.EDUCATION.value
    TRAVEL = Category.TRAVEL.value
    OTHER = Category.OTHER.value
    TRANSFERS = "TRANSFERS"
