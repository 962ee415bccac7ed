"""Webhook delivery as Efí does it: `POST <webhookUrl>/pix` with `{"pix": [...]}`, retried until a 2xx.

Retries back off exponentially (`webhook_backoff_base * 2**n`, capped) for `webhook_max_attempts`
attempts, then the notification is given up (Efí gives up too; the product reconciles by polling).
The URL gets `/pix` appended like Efí: literally when the URL has a query string, which is Efí's
documented `?ignorar=` trick to keep the path; otherwise after trimming a trailing slash.
Faults (drop, duplicate, delay) are applied per notification. Every attempt is recorded in
`state.deliveries`, which `GET /sandbox/webhooks` lists.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import httpx
import structlog

from laura.pix.sandbox.state import SandboxState, iso

log = structlog.get_logger(__name__)


class TaskSet:
    """Background tasks of the sandbox (deliveries, settlements), kept referenced and cancellable."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class WebhookDispatcher:
    """Sends notifications to the webhook registered for a Pix key, with retries and injected faults."""

    def __init__(self, state: SandboxState, tasks: TaskSet) -> None:
        self._state = state
        self._tasks = tasks
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            config = self._state.config
            self._http = httpx.AsyncClient(
                timeout=config.webhook_timeout,
                verify=config.webhook_verify,
                headers={"User-Agent": "laura-psp-sandbox"},
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def notify(self, key: str, event: str, entries: list[dict[str, Any]]) -> None:
        """Queue the notification of `entries` to the webhook of `key`, if one is registered."""
        hook = self._state.webhooks.get(key)
        if hook is None:
            return
        url = hook.url + "/pix" if "?" in hook.url else hook.url.rstrip("/") + "/pix"
        payload = {"pix": entries}
        fault = self._state.faults.take_webhook()
        if fault is not None and fault.mode == "drop":
            self._record(event, url, copy=1, attempt=0, outcome="dropped")
            log.info("sandbox.webhook.dropped", e2e_id=event)
            return
        copies = fault.copies if fault is not None else 1
        delay = fault.seconds if fault is not None else 0.0
        for copy in range(1, copies + 1):
            self._tasks.spawn(self._deliver(url, payload, event, copy, delay))

    async def _deliver(self, url: str, payload: dict[str, Any], event: str, copy: int, delay: float) -> None:
        config = self._state.config
        if delay:
            await asyncio.sleep(delay)
        for attempt in range(1, config.webhook_max_attempts + 1):
            try:
                response = await self._client().post(url, json=payload)
            except httpx.HTTPError as exc:
                self._record(
                    event, url, copy=copy, attempt=attempt, outcome="failed", error=type(exc).__name__
                )
            else:
                if response.is_success:
                    self._record(
                        event,
                        url,
                        copy=copy,
                        attempt=attempt,
                        outcome="delivered",
                        status=response.status_code,
                    )
                    return
                self._record(
                    event, url, copy=copy, attempt=attempt, outcome="failed", status=response.status_code
                )
            if attempt < config.webhook_max_attempts:
                await asyncio.sleep(
                    min(config.webhook_backoff_max, config.webhook_backoff_base * 2 ** (attempt - 1))
                )
        self._record(event, url, copy=copy, attempt=config.webhook_max_attempts, outcome="gave_up")
        log.warning("sandbox.webhook.gave_up", e2e_id=event, attempts=config.webhook_max_attempts)

    def _record(
        self,
        event: str,
        url: str,
        *,
        copy: int,
        attempt: int,
        outcome: str,
        status: int | None = None,
        error: str | None = None,
    ) -> None:
        self._state.deliveries.append(
            {
                "event": event,
                "url": url,
                "copy": copy,
                "attempt": attempt,
                "outcome": outcome,
                "status": status,
                "error": error,
                "at": iso(self._state.now()),
            }
        )
