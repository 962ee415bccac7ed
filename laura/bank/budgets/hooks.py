"""Budgets listen to spending: every write that changes a customer's spending schedules their check."""

from __future__ import annotations

from laura.bank.budgets.alerts import schedule_check
from laura.bank.spending.changes import on_spending_changed

on_spending_changed(schedule_check)
