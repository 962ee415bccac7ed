"""Where spending changes: every write that changes what a customer spent (a card capture or refund, a bill
paid, a transfer out completed, a transfer's category changed) calls `spending_changed` in its own
transaction, and what depends on spending (budgets) hooks in with `on_spending_changed`. It lives here,
beside the query, importing nothing of the features that call it or hook in, so neither side imports the
other."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

SpendingHook = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]
_hooks: list[SpendingHook] = []


def on_spending_changed(hook: SpendingHook) -> SpendingHook:
    """Run `hook(session, user_id)` in the transaction of every write that changes the user's spending."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


async def spending_changed(session: AsyncSession, user_id: uuid.UUID) -> None:
    """The user's spending changes with this transaction: run the hooks in it."""
    for hook in _hooks:
        await hook(session, user_id)
