"""How the cards, budgets and support pages name the bank's codes (a card's status, a spending category, a
ticket's priority...): message ids the templates translate; a code with no label shows as it is."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from laura.web.i18n import N_
from laura.web.render import page

_LABELS: dict[str, dict[str, str]] = {
    "card_status": {
        "ACTIVE": N_("Active"),
        "BLOCKED": N_("Blocked"),
        "LOST": N_("Reported lost"),
        "STOLEN": N_("Reported stolen"),
        "CANCELLED": N_("Cancelled (card)"),
    },
    "card_type": {"PHYSICAL": N_("Physical card"), "VIRTUAL": N_("Virtual card")},
    "category": {
        "FOOD": N_("Food"),
        "TRANSPORT": N_("Transport"),
        "LEISURE": N_("Leisure"),
        "HEALTH": N_("Health"),
        "SHOPPING": N_("Shopping"),
        "BILLS": N_("Bills"),
        "EDUCATION": N_("Education"),
        "TRAVEL": N_("Travel"),
        "OTHER": N_("Other"),
        "TRANSFERS": N_("Transfers"),
    },
    "period": {"WEEKLY": N_("Weekly"), "MONTHLY": N_("Monthly"), "ANNUAL": N_("Yearly")},
    "budget_status": {
        "SAFE": N_("On track"),
        "WARNING": N_("Watch out"),
        "DANGER": N_("Over or near the limit"),
    },
    "ticket_status": {
        "OPEN": N_("Open"),
        "IN_PROGRESS": N_("In progress"),
        "WAITING": N_("Waiting for you"),
        "RESOLVED": N_("Resolved"),
        "CLOSED": N_("Closed"),
    },
    "ticket_category": {
        "ACCOUNT": N_("Account"),
        "CARD": N_("Card"),
        "TRANSFER": N_("Transfer"),
        "BILL": N_("Boleto"),
        "TECHNICAL": N_("Technical problem"),
        "OTHER": N_("Other"),
    },
    "priority": {"LOW": N_("Low"), "MEDIUM": N_("Medium"), "HIGH": N_("High"), "URGENT": N_("Urgent")},
}


def label(kind: str, code: str) -> str:
    """The message id naming `code` among `kind`'s codes, or the code itself."""
    return _LABELS.get(kind, {}).get(code, code)


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, message id) of every code of `kind`, in order: a select's options."""
    return list(_LABELS[kind].items())


def labelled_page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """`render.page` with `label` and `choices` for the template."""
    return page(request, template, status_code, label=label, choices=choices, **context)
