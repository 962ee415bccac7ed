"""The charts' geometry: bars on one scale from the baseline, a line through every value, a donut whose
slices follow each other around the circle."""

from __future__ import annotations

from decimal import Decimal

from laura.web import charts


def test_bars_share_one_scale_and_stand_on_the_baseline() -> None:
    low, high, none = charts.bars([Decimal(5), Decimal(10), Decimal(0)], width=30, height=100, gap=0)
    assert (high.y, high.height) == (0, 100)
    assert (low.y, low.height) == (50, 50)
    assert (none.y, none.height) == (100, 0)
    assert [b.x for b in (low, high, none)] == [0, 10, 20]
    assert charts.bars([]) == []


def test_all_zero_values_draw_flat_bars_and_a_flat_line() -> None:
    assert {b.height for b in charts.bars([Decimal(0)] * 3)} == {0}
    assert charts.line([Decimal(0), Decimal(0)], width=10, height=50) == "0.0,50.0 10.0,50.0"


def test_grouped_bars_put_both_values_of_a_group_on_the_same_scale() -> None:
    [(income, spending)] = charts.grouped_bars([(Decimal(200), Decimal(50))], width=100, height=100)
    assert income.height == 100 and spending.height == 25
    assert spending.x > income.x


def test_donut_slices_follow_each_other_from_the_top() -> None:
    slices = charts.donut([50, 0, 30, 20])
    assert [(s.dasharray, s.dashoffset, s.index) for s in slices] == [
        ("50 50", 25, 0),
        ("30 70", -25, 2),
        ("20 80", -55, 3),
    ]
