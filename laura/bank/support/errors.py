"""Errors of support (spec: TICKET_NOT_FOUND 404, TICKET_CLOSED 409, INVALID_CATEGORY 400)."""

from __future__ import annotations

from laura.core.errors import AppError, BadRequest, Conflict, NotFound


class TicketNotFound(NotFound):
    """No such ticket, or another customer's: the same answer, so ids reveal nothing."""

    error = "TICKET_NOT_FOUND"
    message = "Chamado não encontrado"


class TicketClosed(Conflict):
    error = "TICKET_CLOSED"
    message = "O chamado está encerrado"


class InvalidCategory(BadRequest):
    error = "INVALID_CATEGORY"
    message = "Categoria inválida: ACCOUNT, CARD, TRANSFER, BILL, TECHNICAL ou OTHER"


class InvalidTicketTransition(Conflict):
    """A status the ticket cannot move to from its current one (`states.TRANSITIONS`)."""

    error = "INVALID_TICKET_TRANSITION"
    message = "O chamado não pode passar para esse status"


class StaffNotFound(AppError):
    """`staffId` is not a staff member or an admin."""

    error = "STAFF_NOT_FOUND"
    status = 422
    message = "Atendente não encontrado"
