"""Largest remainder: whole percentages that always add up to 100."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from laura.bank.analytics.service import percentages


def test_the_points_left_go_to_the_largest_remainders() -> None:
    assert percentages([]) == []
    assert percentages([500]) == [100]
    assert percentages([1, 1, 1]) == [34, 33, 33]
    assert percentages([154_50, 100_00, 70_00, 10_00]) == [46, 30, 21, 3]
    assert percentages([2, 1]) == [67, 33]


@given(st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=12))
def test_they_add_up_to_100_and_each_is_within_one_of_its_share(amounts: list[int]) -> None:
    shares = percentages(amounts)
    assert sum(shares) == 100
    total = sum(amounts)
    for amount, share in zip(amounts, shares, strict=True):
        assert amount * 100 / total - 1 < share < amount * 100 / total + 1
