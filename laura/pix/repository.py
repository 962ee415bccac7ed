"""Every query of Pix on our side: charges, sends, webhook deliveries and financial events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from laura.pix.models import FinancialEvent, PixCharge, PixChargeStatus, PixSend, PixSendStatus, WebhookDelivery


class PixRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: PixCharge | PixSend) -> None:
        self.session.add(row)
        await self.session.flush()

    # -- charges -------------------------------------------------------------------------------------

    async def owned_charge(self, txid: str, owner_id: uuid.UUID) -> PixCharge | None:
        return await self.session.scalar(
            select(PixCharge).where(PixCharge.txid == txid, PixCharge.owner_id == owner_id)
        )

    async def charge_for_update(self, txid: str) -> PixCharge | None:
        """The charge, row-locked until the transaction ends (fresh values even if already loaded)."""
        return await self.session.scalar(
            select(PixCharge)
            .where(PixCharge.txid == txid)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def open_charges(self, *, created_before: datetime, limit: int) -> list[str]:
        """Txids still ACTIVE in our books (and not waiting for ops), oldest first."""
        rows = await self.session.scalars(
            select(PixCharge.txid)
            .where(
                PixCharge.status == PixChargeStatus.ACTIVE,
                PixCharge.review_reason.is_(None),
                PixCharge.created_at < created_before,
            )
            .order_by(PixCharge.created_at)
            .limit(limit)
        )
        return list(rows)

    # -- sends ---------------------------------------------------------------------------------------

    async def send(self, id_envio: str) -> PixSend | None:
        return await self.session.get(PixSend, id_envio)

    async def send_for_update(self, id_envio: str) -> PixSend | None:
        return await self.session.scalar(
            select(PixSend)
            .where(PixSend.id_envio == id_envio)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def mark_submitted(self, id_envio: str, e2e_id: str) -> None:
        """The PSP accepted the send: keep its e2eId (a settle that got there first keeps its own)."""
        await self.session.execute(
            update(PixSend)
            .where(PixSend.id_envio == id_envio)
            .values(
                submitted_at=func.coalesce(PixSend.submitted_at, func.now()),
                e2e_id=func.coalesce(PixSend.e2e_id, e2e_id),
            )
            .execution_options(synchronize_session=False)
        )

    async def processing_sends(self, *, created_before: datetime, limit: int) -> list[str]:
        """idEnvios still PROCESSING, oldest first."""
        rows = await self.session.scalars(
            select(PixSend.id_envio)
            .where(PixSend.status == PixSendStatus.PROCESSING, PixSend.created_at < created_before)
            .order_by(PixSend.created_at)
            .limit(limit)
        )
        return list(rows)

    # -- webhook deliveries and financial events -----------------------------------------------------

    async def insert_delivery(self, *, sha256: str, body: bytes, auth: str) -> int | None:
        """Store a delivery; None when an identical one is already stored (waits for one in flight)."""
        return await self.session.scalar(
            insert(WebhookDelivery)
            .values(sha256=sha256, body=body, auth=auth)
            .on_conflict_do_nothing(index_elements=[WebhookDelivery.sha256])
            .returning(WebhookDelivery.id)
        )

    async def set_delivery_outcome(self, delivery_id: int, *, outcome: str, pix_count: int) -> None:
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(outcome=outcome, pix_count=pix_count)
            .execution_options(synchronize_session=False)
        )

    async def insert_event(self, **values: Any) -> bool:
        """Record a Pix; False when its e2eId is already recorded (the one check that makes it count once)."""
        inserted = await self.session.scalar(
            insert(FinancialEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[FinancialEvent.external_id])
            .returning(FinancialEvent.id)
        )
        return inserted is not None
