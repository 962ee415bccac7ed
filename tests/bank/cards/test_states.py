"""The card state table over every pair of statuses, and the embossing rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from laura.bank.cards.embossing import holder_name, physical_expiry
from laura.bank.cards.models import CardStatus
from laura.bank.cards.states import FINAL, can_move

_MOVES = {
    (CardStatus.ACTIVE, CardStatus.BLOCKED),
    (CardStatus.ACTIVE, CardStatus.LOST),
    (CardStatus.ACTIVE, CardStatus.STOLEN),
    (CardStatus.ACTIVE, CardStatus.CANCELLED),
    (CardStatus.BLOCKED, CardStatus.ACTIVE),
    (CardStatus.BLOCKED, CardStatus.LOST),
    (CardStatus.BLOCKED, CardStatus.STOLEN),
    (CardStatus.BLOCKED, CardStatus.CANCELLED),
}


@pytest.mark.parametrize("current", list(CardStatus))
@pytest.mark.parametrize("target", list(CardStatus))
def test_every_pair_of_statuses(current: CardStatus, target: CardStatus) -> None:
    assert can_move(current, target) == ((current, target) in _MOVES)


def test_lost_stolen_and_cancelled_are_final() -> None:
    assert frozenset({CardStatus.LOST, CardStatus.STOLEN, CardStatus.CANCELLED}) == FINAL


@pytest.mark.parametrize(
    ("name", "embossed"),
    [
        ("João da Silva", "JOAO DA SILVA"),
        ("  maria   d'ávila ", "MARIA D AVILA"),
        ("Maria Aparecida Conceição de Souza Santos", "MARIA A C DE SOUZA SANTOS"),
        ("Pedro de Alcântara Francisco Antônio João Carlos", "PEDRO D A F A JOAO CARLOS"),
        ("Wolfeschlegelsteinhausenbergerdorff", "WOLFESCHLEGELSTEINHAUSENBE"),
    ],
)
def test_holder_names_fit_the_embosser(name: str, embossed: str) -> None:
    assert holder_name(name) == embossed and len(embossed) <= 26


def test_a_card_expires_at_the_end_of_its_month_in_brasilia() -> None:
    # 2026-12-01 01:00 UTC is still November 30 in Brasília
    assert physical_expiry(datetime(2026, 12, 1, 1, 0, tzinfo=UTC), 5) == (
        "11/31",
        datetime(2031, 12, 1, 2, 59, 59, 999999, tzinfo=UTC),
    )
