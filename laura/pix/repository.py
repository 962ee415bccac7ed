"""Every query of Pix on our side: charges, sends, webhook deliveries and financial events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from laura.pix.models import PixCharge, PixChargeStatus, PixSend, PixSendStatus


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
        return await self.session.scalar(_CHARGE_FOR_UPDATE, {"txid": txid})

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

    # -- webhook deliveries and financial events (the intake's hot path: prebuilt statements) -------------

    async def insert_delivery(
        self, *, sha256: str, body: bytes, auth: str, pix_count: int, error: str | None
    ) -> int | None:
        """Store a delivery; None when an identical one is already stored (waits for one in flight)."""
        params = {"sha256": sha256, "body": body, "auth": auth, "pix_count": pix_count, "error": error}
        return await self.session.scalar(_INSERT_DELIVERY, params)

    async def insert_event(self, **values: Any) -> bool:
        """Record a Pix; False when its e2eId is already recorded (the one check that makes it count once)."""
        return await self.session.scalar(_INSERT_EVENT, _event_params(values)) is not None

    async def apply_received(self, **values: Any) -> bool:
        """Record a received Pix as applied and mark its (row-locked) charge PAID, in one statement; False
        when the e2eId is already recorded, and then nothing changes."""
        return await self.session.scalar(_APPLY_RECEIVED, _event_params(values)) is not None


_EVENT_COLUMNS = (
    "external_id",
    "kind",
    "status",
    "reason",
    "txid",
    "id_envio",
    "purpose",
    "entity_id",
    "amount_cents",
    "source",
    "delivery_id",
    "occurred_at",
    "payload",
)
_INSERT_EVENT_SQL = (
    f"INSERT INTO financial_events ({', '.join(_EVENT_COLUMNS)})"
    f" VALUES ({', '.join(':' + c for c in _EVENT_COLUMNS)})"
    " ON CONFLICT (external_id) DO NOTHING RETURNING id"
)
_INSERT_EVENT = text(_INSERT_EVENT_SQL).bindparams(bindparam("payload", type_=JSONB))
_APPLY_RECEIVED = text(
    f"WITH event AS ({_INSERT_EVENT_SQL})"
    " UPDATE pix_charges SET status = 'PAID', paid_at = :occurred_at, e2e_id = :external_id"
    " WHERE txid = :txid AND EXISTS (SELECT 1 FROM event) RETURNING txid"
).bindparams(bindparam("payload", type_=JSONB))
_INSERT_DELIVERY = text(
    "INSERT INTO webhook_deliveries (sha256, body, auth, pix_count, error)"
    " VALUES (:sha256, :body, :auth, :pix_count, :error)"
    " ON CONFLICT (sha256) DO NOTHING RETURNING id"
)
_CHARGE_FOR_UPDATE = (
    select(PixCharge)
    .where(PixCharge.txid == bindparam("txid"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def _event_params(values: dict[str, Any]) -> dict[str, Any]:
    return {column: values.get(column) for column in _EVENT_COLUMNS}
