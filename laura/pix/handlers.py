"""The registries through which features receive Pix news: one handler per charge purpose, and a pair of
handlers (done, failed) per send purpose.

A feature registers at import time of its service module, e.g. the bank's deposits::

    register_pix_handler("bank.deposit", credit_deposit)

Handlers run inside the transaction that records the Pix (webhook intake, reconciliation), after the row
lock on the charge or send is taken: whatever they write commits together with the Pix being counted, or
not at all. They must not call the PSP nor commit. Both the API and the worker must import the module that
registers (the API through its router, the worker through the feature's `tasks.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from laura.pix.models import PixCharge, PixSend
from laura.pix.psp import ReceivedPix

PixHandler = Callable[[AsyncSession, PixCharge, ReceivedPix], Awaitable[None]]
SendHandler = Callable[[AsyncSession, PixSend], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SendHandlers:
    on_done: SendHandler
    on_failed: SendHandler


_pix_handlers: dict[str, PixHandler] = {}
_send_handlers: dict[str, SendHandlers] = {}


def register_pix_handler(purpose: str, handler: PixHandler) -> None:
    """Route the payment of charges created with `purpose` to `handler(session, charge, pix)`.

    Registering the same handler again is harmless; a second, different handler is a programming error."""
    _register(_pix_handlers, purpose, handler)


def register_send_handler(purpose: str, on_done: SendHandler, on_failed: SendHandler) -> None:
    """Route the outcome of Pix sent with `purpose`: `on_done(session, send)` once it settled, or
    `on_failed(session, send)` (with `send.error`) once the PSP refused or gave up."""
    _register(_send_handlers, purpose, SendHandlers(on_done, on_failed))


def pix_handler(purpose: str) -> PixHandler:
    """The handler for a charge purpose; a missing one raises (a payment is never marked applied unhandled)."""
    try:
        return _pix_handlers[purpose]
    except KeyError:
        raise LookupError(f"no Pix handler registered for purpose {purpose!r}") from None


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
