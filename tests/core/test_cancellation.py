"""A background loop stops when cancelled even if the cancellation was swallowed on the way."""

import asyncio

from laura.core.cancellation import stop_if_cancelled


async def test_a_loop_whose_cancellation_was_swallowed_still_stops():
    swallowed = asyncio.Event()

    async def forever() -> None:
        while True:
            stop_if_cancelled()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                swallowed.set()  # what a driver's cleanup can do with a cancellation that lands mid-call

    task = asyncio.create_task(forever())
    await asyncio.sleep(0)
    task.cancel()
    await swallowed.wait()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done and task.cancelled()


async def test_an_uncancelled_task_goes_on():
    stop_if_cancelled()
    assert not asyncio.current_task().cancelling()
