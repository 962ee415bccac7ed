"""Names the console shows for the ledger's account types (message ids; the template translates them)."""

from __future__ import annotations

from laura.web.i18n import N_

ACCOUNT_TYPES = {
    "ASSET": N_("Asset"),
    "LIABILITY": N_("Liability"),
    "EQUITY": N_("Equity"),
    "INCOME": N_("Income"),
    "EXPENSE": N_("Expense"),
}
