"""Money at the edges is Decimal with two places; inside the ledger it is integer cents."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> int:
    """Exact conversion; refuses amounts with more than two decimals instead of rounding them away."""
    quantized = amount.quantize(CENT)
    if quantized != amount:
        raise ValueError("amount has more than two decimal places")
    return int(quantized * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _json_number(value: object) -> object:
    """The wire contract is a JSON number (`150.00`): a string amount is refused, not guessed at. A number is
    read exactly: pydantic takes a JSON number's own digits, and a float's shortest repr (0.1 -> 0.1)."""
    if isinstance(value, str):
        raise PydanticCustomError(
            "decimal_type", "must be a JSON number with at most two decimals, e.g. 150.00"
        )
    return value


def _positive_two_places(value: Decimal) -> Decimal:
    try:
        if value != value.quantize(CENT):
            raise ValueError("must have at most two decimal places")
    except InvalidOperation as exc:
        raise ValueError("must be a valid amount") from exc
    if value <= 0:
        raise ValueError("must be greater than zero")
    if value >= Decimal(1000000000):
        raise ValueError("is too large")
    return value.quantize(CENT)


_money_json = PlainSerializer(
    lambda v: float(v) if v is not None else None, return_type=float, when_used="json"
)

Amount = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    AfterValidator(_positive_two_places),
    _money_json,
    WithJsonSchema({"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0, "examples": [150.0]}),
]
"""A request amount: a JSON number, positive, at most two decimals (the wire contract); 422 otherwise."""

Money = Annotated[Decimal, _money_json, WithJsonSchema({"type": "number", "examples": [150.0]})]
"""A response amount: serialized as a JSON number with the Decimal's value."""
