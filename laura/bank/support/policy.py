"""Support's knobs from the settings: the first-answer SLA of each priority and the auto-close delay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from laura.bank.support.models import Priority


@dataclass(frozen=True)
class SupportPolicy:
    sla: dict[Priority, timedelta]
    auto_close_after: timedelta

    def due(self, priority: Priority) -> timedelta:
        return self.sla[priority]


def policy_of(settings: Any) -> SupportPolicy:
    """The policy of `laura.settings.Settings` (`support_sla_hours`, `support_auto_close_days`)."""
    return SupportPolicy(
        sla={Priority(name): timedelta(hours=hours) for name, hours in settings.support_sla_hours.items()},
        auto_close_after=timedelta(days=settings.support_auto_close_days),
    )
