"""Every move a card's status may make, in one table.

ACTIVE and BLOCKED go back and forth; LOST, STOLEN and CANCELLED are final (a lost or stolen card is
replaced by a new one, a cancelled virtual card stays listed). Asking for the status a card already has
(blocking a blocked card, unblocking an active one, cancelling a cancelled one) changes nothing and is not
a move: the service answers the card as it is.
"""

from __future__ import annotations

from laura.bank.cards.models import CardStatus

TRANSITIONS: dict[CardStatus, frozenset[CardStatus]] = {
    CardStatus.ACTIVE: frozenset(
        {CardStatus.BLOCKED, CardStatus.LOST, CardStatus.STOLEN, CardStatus.CANCELLED}
    ),
    CardStatus.BLOCKED: frozenset(
        {CardStatus.ACTIVE, CardStatus.LOST, CardStatus.STOLEN, CardStatus.CANCELLED}
    ),
    CardStatus.LOST: frozenset(),
    CardStatus.STOLEN: frozenset(),
    CardStatus.CANCELLED: frozenset(),
}

FINAL = frozenset(status for status, moves in TRANSITIONS.items() if not moves)


def can_move(current: CardStatus | str, target: CardStatus) -> bool:
    return target in TRANSITIONS[CardStatus(current)]
