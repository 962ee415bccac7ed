"""Charts drawn on the server as SVG: the geometry of bars, a line and a donut, which the templates turn
into `<rect>`, `<polyline>` and `<circle>` elements.

SVG from the server rather than a vendored Chart.js: these charts are simple, they then read with
JavaScript off like every reading page, they need no second copy of the data in a script, and each sits
next to a table of its figures (screen readers read the table; the SVG is `role="img"` with a summary)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 300
HEIGHT = 120
DONUT_RADIUS = Decimal("15.9155")
"""A circle of circumference 100 (2πr), so a slice's dash length is its percentage."""
_DONUT_START = 25
"""The dash offset that starts the first slice at the top (a circle's path starts at 3 o'clock)."""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Slice:
    dasharray: str
    dashoffset: int
    index: int
    """The slice's colour, one of the stylesheet's `slice-0`..`slice-9`."""


def _scale(values: Sequence[Decimal]) -> Decimal:
    top = max(values, default=Decimal(0))
    return top if top > 0 else Decimal(1)


def bars(values: Sequence[Decimal], *, width: int = WIDTH, height: int = HEIGHT, gap: float = 1) -> list[Bar]:
    """One bar per value from the baseline, the tallest reaching `height`; a zero is a bar of height 0."""
    if not values:
        return []
    top = _scale(values)
    step = width / len(values)
    return [
        Bar(
            x=round(i * step + gap / 2, 2),
            y=round(height - float(value / top) * height, 2),
            width=round(max(step - gap, 0.5), 2),
            height=round(float(value / top) * height, 2),
        )
        for i, value in enumerate(values)
    ]


def grouped_bars(
    pairs: Sequence[tuple[Decimal, Decimal]], *, width: int = WIDTH, height: int = HEIGHT
) -> list[tuple[Bar, Bar]]:
    """Two bars side by side per group (income and spending of a month) on one scale."""
    if not pairs:
        return []
    top = _scale([v for pair in pairs for v in pair])
    step = width / len(pairs)
    bar = step * 0.38
    out = []
    for i, (first, second) in enumerate(pairs):
        left = i * step + step * 0.1
        h1, h2 = float(first / top) * height, float(second / top) * height
        out.append(
            (
                Bar(round(left, 2), round(height - h1, 2), round(bar, 2), round(h1, 2)),
                Bar(round(left + bar + step * 0.04, 2), round(height - h2, 2), round(bar, 2), round(h2, 2)),
            )
        )
    return out


def line(values: Sequence[Decimal], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The points of a polyline through the values, left to right (`points="x,y x,y ..."`)."""
    if not values:
        return ""
    top = _scale(values)
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{round(i * step, 2)},{round(height - float(value / top) * height, 2)}"
        for i, value in enumerate(values)
    )


def donut(shares: Sequence[int]) -> list[Slice]:
    """Slices for whole percentages that add up to 100 (analytics' `percentageOfTotal`), clockwise from the
    top; a 0% share draws nothing."""
    slices, done = [], 0
    for index, share in enumerate(shares):
        if share > 0:
            slices.append(Slice(f"{share} {100 - share}", _DONUT_START - done, index % 10))
        done += share
    return slices
