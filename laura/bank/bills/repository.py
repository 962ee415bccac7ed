"""Every query on bill payments and registered bills."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.bills.models import BillPayment, BillPaymentStatus, RegisteredBill


class BillRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def registered(self, barcode: str) -> RegisteredBill | None:
        return (
            await self.session.execute(select(RegisteredBill).where(RegisteredBill.barcode == barcode))
        ).scalar_one_or_none()

    async def add_registered(self, bill: RegisteredBill) -> None:
        """Register a slip unless it is known already (demo seed runs more than once)."""
        if await self.registered(bill.barcode) is None:
            self.session.add(bill)
            await self.session.flush()

    async def barcode_taken(self, barcode: str) -> bool:
        found = await self.session.execute(
            select(BillPayment.id).where(
                BillPayment.barcode == barcode,
                BillPayment.status.in_((BillPaymentStatus.SCHEDULED, BillPaymentStatus.COMPLETED)),
            )
        )
        return found.first() is not None

    async def add_payment(self, payment: BillPayment) -> bool:
        """Insert; False when another payment of the same slip won the unique index meanwhile."""
        try:
            async with self.session.begin_nested():
                self.session.add(payment)
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def get(
        self, payment_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
    ) -> BillPayment | None:
        query = select(BillPayment).where(BillPayment.id == payment_id)
        if user_id is not None:
            query = query.where(BillPayment.user_id == user_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def page(self, user_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[BillPayment], int]:
        rows = (
            await self.session.execute(
                select(BillPayment)
                .where(BillPayment.user_id == user_id)
                .order_by(BillPayment.created_at.desc(), BillPayment.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).scalars()
        total = await self.session.scalar(
            select(func.count()).select_from(BillPayment).where(BillPayment.user_id == user_id)
        )
        return list(rows), int(total or 0)
