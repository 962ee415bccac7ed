"""Errors of budgets (the spec names none: named after what went wrong, like the other modules')."""

from __future__ import annotations

from laura.core.errors import Conflict, NotFound


class BudgetNotFound(NotFound):
    """No such budget, a deleted one, or another customer's: the same answer, so ids reveal nothing."""

    error = "BUDGET_NOT_FOUND"
    code = "BDG_001"
    message = "Orçamento não encontrado"


class BudgetAlreadyExists(Conflict):
    """A customer has one live budget per category and period."""

    error = "BUDGET_ALREADY_EXISTS"
    code = "BDG_002"
    message = "Já existe um orçamento para esta categoria e período"
