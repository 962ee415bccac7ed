"""The running emulator: state plus what happens later (settling sends, delivering webhooks)."""

from __future__ import annotations

import asyncio
from typing import Any

from laura.pix.sandbox.config import SandboxConfig
from laura.pix.sandbox.schemas import PayRequest, SendRequest
from laura.pix.sandbox.state import ChargeRecord, SandboxState, SendRecord
from laura.pix.sandbox.webhooks import TaskSet, WebhookDispatcher


class Sandbox:
    """One emulated Efí account; routes call it, it calls the state and schedules the async parts."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.state = SandboxState(config)
        self.tasks = TaskSet()
        self.webhooks = WebhookDispatcher(self.state, self.tasks)

    async def aclose(self) -> None:
        await self.tasks.cancel_all()
        await self.webhooks.aclose()

    async def reset(self) -> None:
        """Cancel pending deliveries and settlements, then forget all state and faults."""
        await self.tasks.cancel_all()
        self.state.reset()

    def pay(self, txid: str, request: PayRequest) -> tuple[ChargeRecord, dict[str, Any]]:
        """A payer pays the charge; the webhook of the charge's key hears about it."""
        charge, entry = self.state.pay_charge(txid, request)
        self.webhooks.notify(charge.key, entry["endToEndId"], [entry])
        return charge, entry

    def send(self, id_envio: str, request: SendRequest) -> tuple[SendRecord, bool]:
        """Accept a send and, unless it is stuck, settle it after `send_settle_delay`."""
        record, created = self.state.send_pix(id_envio, request)
        if created and record.planned_status is not None:
            self.tasks.spawn(self._settle_later(record.id_envio, record.planned_status))
        return record, created

    def settle(self, id_envio: str, status: str, reason: str | None = None) -> SendRecord:
        """Finish a send and notify the payer key's webhook of the outcome."""
        record = self.state.settle_send(id_envio, status, reason)
        self.webhooks.notify(record.payer_key, record.e2e_id, [record.webhook_entry()])
        return record

    async def _settle_later(self, id_envio: str, status: str) -> None:
        await asyncio.sleep(self.config.send_settle_delay)
        self.settle(id_envio, status)
