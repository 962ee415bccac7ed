"""The registries through which features receive Pix news.

Received Pix: a charge's purpose names its effect in SQL, in `pix_charge_purposes` (the feature's migration
adds the row): a function `effect(p_charge pix_charges, p_pix jsonb, p_context jsonb)` that
`pix_apply_received` runs right after the charge became PAID, under its row lock, in the statement that
counts the Pix once (sql/intake.sql). The money moves there, with the Pix being counted, or not at all, and
a webhook delivery stays one round trip. A feature may add Python work for after that commit
(`register_paid_hook`): never money, only what follows from it, such as dropping cached balances.

Closed charges: a charge that ends unpaid (the janitor finds it expired, orphaned or removed at the PSP; a
feature cancels it) runs its purpose's close hook (`register_close_hook`) inside the closing transaction,
under the charge's row lock, so that what waited for the payment stops waiting with it (a ride's intent
becomes EXPIRED). Like send handlers, it must not call the PSP nor commit.

Sent Pix: a pair of Python handlers (done, failed) per send purpose, run inside the transaction that settles
the send, after the row lock on it; they must not call the PSP nor commit. Both the API and the worker must
import the module that registers (the API through its router, the worker through the feature's `tasks.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from laura.pix.models import PaidCharge, PixCharge, PixSend

PaidHook = Callable[[PaidCharge], Awaitable[None]]
CloseHook = Callable[[AsyncSession, PixCharge], Awaitable[None]]
SendHandler = Callable[[AsyncSession, PixSend], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SendHandlers:
    on_done: SendHandler
    on_failed: SendHandler


_paid_hooks: dict[str, PaidHook] = {}
_close_hooks: dict[str, CloseHook] = {}
_send_handlers: dict[str, SendHandlers] = {}


def register_paid_hook(purpose: str, hook: PaidHook) -> None:
    """Run `hook(charge)` once a Pix paying a charge of `purpose` has been applied and committed.

    Registering the same hook again is harmless; a second, different one is a programming error."""
    _register(_paid_hooks, purpose, hook)


def register_close_hook(purpose: str, hook: CloseHook) -> None:
    """Run `hook(session, charge)` in the transaction that closes a charge of `purpose` unpaid (its new
    status, EXPIRED or CANCELLED, already flushed)."""
    _register(_close_hooks, purpose, hook)


def close_hook(purpose: str) -> CloseHook | None:
    """The close hook of a charge purpose, if it registered one."""
    return _close_hooks.get(purpose)


def register_send_handler(purpose: str, on_done: SendHandler, on_failed: SendHandler) -> None:
    """Route the outcome of Pix sent with `purpose`: `on_done(session, send)` once it settled, or
    `on_failed(session, send)` (with `send.error`) once the PSP refused or gave up."""
    _register(_send_handlers, purpose, SendHandlers(on_done, on_failed))


def paid_hook(purpose: str) -> PaidHook | None:
    """The after-commit hook of a charge purpose, if it registered one."""
    return _paid_hooks.get(purpose)


def send_handlers(purpose: str) -> SendHandlers:
    """The handlers for a send purpose; a missing pair raises."""
    try:
        return _send_handlers[purpose]
    except KeyError:
        raise LookupError(f"no send handler registered for purpose {purpose!r}") from None


def _register(registry: dict, purpose: str, value: object) -> None:
    if not purpose or len(purpose) > 64:
        raise ValueError("purpose must be 1 to 64 characters")
    existing = registry.get(purpose)
    if existing is not None and existing != value:
        raise ValueError(f"a different handler is already registered for purpose {purpose!r}")
    registry[purpose] = value
