"""The wire contract for amounts: a JSON number with at most two decimals, read exactly as Decimal; a string
amount is refused like any other malformed field."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from laura.bank.transfers.schemas import P2PRequest

RECIPIENT = str(uuid.uuid4())


def _amount(raw: str) -> Decimal:
    return P2PRequest.model_validate_json(f'{{"recipientUserId": "{RECIPIENT}", "amount": {raw}}}').amount


@pytest.mark.parametrize(
    ("raw", "exact"),
    [
        ("0.1", "0.10"),
        ("150", "150.00"),
        ("150.00", "150.00"),
        ("1e2", "100.00"),
        ("999999999.99", "999999999.99"),
    ],
)
def test_a_json_number_becomes_the_exact_decimal(raw: str, exact: str) -> None:
    assert _amount(raw) == Decimal(exact) and str(_amount(raw)) == exact


def test_a_float_in_python_becomes_its_shortest_decimal_not_its_binary_value() -> None:
    assert P2PRequest(recipient_user_id=RECIPIENT, amount=0.1).amount == Decimal("0.10")


@pytest.mark.parametrize("raw", ['"1.00"', '"150"', '""'])
def test_an_amount_given_as_a_json_string_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _amount(raw)
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [(("amount",), "decimal_type")]


@pytest.mark.parametrize("raw", ["0.30000000000000004", "1.005", "0", "-1.00", "1000000000"])
def test_more_decimals_zero_negative_or_too_large_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        _amount(raw)
