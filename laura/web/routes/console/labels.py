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

STATES = {
    # rides
    "REQUESTED": N_("Requested"),
    "SEARCHING": N_("Searching for a driver"),
    "OFFERED": N_("Offered to a driver"),
    "ACCEPTED": N_("Accepted"),
    "DRIVER_ARRIVING": N_("Driver on the way"),
    "DRIVER_ARRIVED": N_("Driver arrived"),
    "IN_PROGRESS": N_("In progress"),
    "COMPLETED": N_("Completed"),
    "PAYMENT_PENDING": N_("Payment pending"),
    "PAID": N_("Paid"),
    "CANCELED": N_("Cancelled"),
    "EXPIRED": N_("Expired"),
    # support tickets
    "OPEN": N_("Open"),
    "WAITING": N_("Waiting on the customer"),
    "RESOLVED": N_("Resolved"),
    "CLOSED": N_("Closed"),
    # jobs
    "todo": N_("To do"),
    "doing": N_("Running"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
    "aborting": N_("Aborting"),
    "aborted": N_("Aborted"),
    "all": N_("All"),
    # fraud flags
    "cleared": N_("Cleared: no fraud"),
    "confirmed": N_("Confirmed: fraud"),
}
"""What the console shows for the states of rides, tickets, jobs and flags (message ids)."""
