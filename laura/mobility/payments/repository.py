"""Queries on payment intents (and the Pix charge each names); never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from laura.mobility.payments.models import IntentStatus, PaymentIntent, PaymentRefund
from laura.pix.models import PixCharge


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, intent: PaymentIntent) -> PaymentIntent:
        self.session.add(intent)
        await self.session.flush()
        return intent

    async def intent(self, intent_id: uuid.UUID, *, for_update: bool = False) -> PaymentIntent | None:
        query = select(PaymentIntent).where(PaymentIntent.id == intent_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def pending(self, ride_id: uuid.UUID) -> PaymentIntent | None:
        """The ride's live intent, locked (the partial unique index allows one)."""
        return await self.session.scalar(
            select(PaymentIntent)
            .where(PaymentIntent.ride_id == ride_id, PaymentIntent.status == IntentStatus.PENDING)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def latest(self, ride_id: uuid.UUID) -> PaymentIntent | None:
        """The intent that paid the ride, else its newest (the one it waits on): a newer charge paid after
        the ride was paid by an older one is owed back, and does not hide the payment."""
        return await self.session.scalar(
            select(PaymentIntent)
            .where(PaymentIntent.ride_id == ride_id)
            .order_by(
                (PaymentIntent.status == IntentStatus.CONFIRMED).desc(),
                PaymentIntent.created_at.desc(),
                PaymentIntent.id.desc(),
            )
            .limit(1)
        )

    async def charge(self, txid: str | None) -> PixCharge | None:
        if txid is None:
            return None
        return await self.session.get(PixCharge, txid, populate_existing=True)

    async def refunds(
        self, *, status: str | None, offset: int, limit: int
    ) -> tuple[list[PaymentRefund], int]:
        """Refunds owed, oldest first (the review queue's order), optionally of one status."""
        where = [PaymentRefund.status == status] if status is not None else []
        total = await self.session.scalar(select(func.count()).select_from(PaymentRefund).where(*where))
        rows = await self.session.scalars(
            select(PaymentRefund)
            .where(*where)
            .order_by(PaymentRefund.created_at, PaymentRefund.id)
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)

    async def refund_for_update(self, refund_id: uuid.UUID) -> PaymentRefund | None:
        return await self.session.scalar(
            select(PaymentRefund)
            .where(PaymentRefund.id == refund_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
