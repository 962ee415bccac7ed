"""Every move a ticket's status may make, in one table.

Staff move a ticket OPEN -> IN_PROGRESS -> WAITING (on the customer) -> RESOLVED -> CLOSED; a ticket may
be resolved from any open status, and an OPEN one closed outright (a duplicate, spam). Staff's first reply
moves an OPEN ticket to IN_PROGRESS; a customer's reply
moves a WAITING or RESOLVED ticket back to IN_PROGRESS (`REOPENED_BY_REPLY`); a RESOLVED ticket nobody
answers is CLOSED by the auto-close job. CLOSED is final. Asking for the status a ticket has already
changes nothing and is not a move.
"""

from __future__ import annotations

from laura.bank.support.models import TicketStatus

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.WAITING, TicketStatus.RESOLVED}),
    TicketStatus.WAITING: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}

REOPENED_BY_REPLY = frozenset({TicketStatus.WAITING, TicketStatus.RESOLVED})
"""Statuses a customer's reply moves back to IN_PROGRESS."""


def can_move(current: TicketStatus | str, target: TicketStatus) -> bool:
    return target in TRANSITIONS[TicketStatus(current)]
