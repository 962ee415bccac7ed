"""Cancellation that a forever-loop cannot lose."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise CancelledError when the current task has been asked to stop.

    A background loop (the outbox relay, the bus listener) calls it before each wait and after each error
    it survives, and the relay before each batch. A cancellation that lands in the middle of a driver call
    can come out of it as a normal return or as an ordinary error (raised by the driver's own cleanup), and
    the loop would then go on forever with the stop request pending: app shutdown hung on this about one
    run in five.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
