"""Every query of Pix on our side: charges, sends, webhook deliveries and financial events."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import bindparam, delete, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.db import Database, fetch, fetchrow, fetchval
from laura.core.statement import one_statement_rows
from laura.pix.models import PaidCharge, PixCharge, PixChargeStatus, PixSend, PixSendStatus, WebhookDelivery

_SCHEME = re.compile(r"^https?://")


class PixRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: PixCharge | PixSend) -> None:
        self.session.add(row)
        await self.session.flush()

    # -- charges -------------------------------------------------------------------------------------

    async def charge(self, txid: str) -> PixCharge | None:
        return await self.session.get(PixCharge, txid, populate_existing=True)

    async def owned_charge(self, txid: str, owner_id: uuid.UUID) -> PixCharge | None:
        return await self.session.scalar(
            select(PixCharge).where(PixCharge.txid == txid, PixCharge.owner_id == owner_id)
        )

    async def charge_at_location(self, location: str) -> PixCharge | None:
        """The charge whose PSP location is `location`, compared without the URL scheme (a BR Code drops
        it; the index ix_pix_charges_location is on that same expression)."""
        bare = _SCHEME.sub("", location.strip())
        return await self.session.scalar(
            select(PixCharge).where(
                func.regexp_replace(PixCharge.location, literal_column("'^https?://'"), literal_column("''"))
                == bare
            )
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

    # -- webhook deliveries and financial events (the intake's hot path: one function call, on the driver) ----

    async def deliveries(self, *, refused_only: bool, offset: int, limit: int) -> tuple[list[Any], int]:
        """Webhook deliveries newest first, without their bodies (payers' data stays in the table)."""
        where = [WebhookDelivery.error.is_not(None)] if refused_only else []
        total = await self.session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where))
        columns = (
            WebhookDelivery.id,
            WebhookDelivery.provider,
            WebhookDelivery.auth,
            WebhookDelivery.pix_count,
            WebhookDelivery.error,
            WebhookDelivery.received_at,
        )
        rows = await self.session.execute(
            select(*columns).where(*where).order_by(WebhookDelivery.id.desc()).offset(offset).limit(limit)
        )
        return list(rows.all()), total or 0

    async def delete_deliveries_before(self, cutoff: datetime, limit: int) -> int:
        """Delete up to `limit` deliveries received before `cutoff`, oldest first; how many. Their financial
        events stay, with their own payload (the foreign key sets `delivery_id` to NULL)."""
        oldest = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.received_at < cutoff)
            .order_by(WebhookDelivery.received_at)
            .limit(limit)
        )
        deleted = await self.session.scalars(
            delete(WebhookDelivery).where(WebhookDelivery.id.in_(oldest)).returning(WebhookDelivery.id)
        )
        return len(deleted.all())

    async def ingest_delivery(self, delivery: Delivery) -> list[asyncpg.Record]:
        """`ingest_delivery_statement` inside the session's transaction (a delivery that also settles sends)."""
        return await fetch(self.session, _INGEST_DELIVERY, *delivery.arguments())

    async def apply_received(
        self, received: Received, *, source: str, delivery_id: int | None, context: str
    ) -> asyncpg.Record:
        """Apply (or record) one received Pix under the charge's row lock, with its purpose's effect, in one
        call (`pix_apply_received`, sql/intake.sql)."""
        row = await fetchrow(
            self.session,
            _APPLY_RECEIVED,
            received.txid,
            received.e2e_id,
            received.amount_cents,
            received.occurred_at,
            json.dumps(received.payload),
            source,
            delivery_id,
            context,
        )
        assert row is not None
        return row

    async def insert_event(self, **values: Any) -> bool:
        """Record a Pix; False when its e2eId is already recorded (the one check that makes it count once)."""
        params = [values.get(column) for column in _EVENT_COLUMNS]
        params[-1] = json.dumps(params[-1])
        return await fetchval(self.session, _INSERT_EVENT, *params) is not None


async def ingest_delivery_statement(db: Database, delivery: Delivery) -> list[asyncpg.Record]:
    """Store a delivery and apply its received Pix in order, each with its purpose's effect, as one autocommit
    statement (`pix_ingest_delivery`, sql/intake.sql): the first row is the delivery (`delivery_id` None when an identical one is
    already stored, which it waits for while in flight), then one row per Pix (`outcome`, `reason`, the
    charge's columns)."""
    return await one_statement_rows(db, _INGEST_DELIVERY, *delivery.arguments())


def paid_charge(row: asyncpg.Record) -> PaidCharge:
    """The charge an intake function returned for a Pix it applied."""
    return PaidCharge(
        txid=row["txid"],
        purpose=row["purpose"],
        entity_id=row["entity_id"],
        owner_id=row["owner_id"],
        amount_cents=row["amount_cents"],
        e2e_id=row["e2e_id"],
        created_at=row["created_at"],
    )


async def purpose_has_effect(session: AsyncSession, purpose: str) -> bool:
    """Whether a migration registered the SQL effect of charges of `purpose` (`pix_charge_purposes`)."""
    return (
        await fetchval(session, "SELECT true FROM pix_charge_purposes WHERE purpose = $1", purpose)
        is not None
    )


@dataclass(frozen=True, slots=True)
class Received:
    """A received Pix as the intake functions take it."""

    txid: str | None
    e2e_id: str
    amount_cents: int
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook delivery as `pix_ingest_delivery` takes it: the raw body and its received Pix, in order."""

    sha256: str
    body: bytes
    auth: str
    pix_count: int
    error: str | None
    received: list[Received]
    context: str

    def arguments(self) -> tuple[Any, ...]:
        received = self.received
        return (
            self.sha256,
            self.body,
            self.auth,
            self.pix_count,
            self.error,
            [r.txid for r in received],
            [r.e2e_id for r in received],
            [r.amount_cents for r in received],
            [r.occurred_at for r in received],
            json.dumps([r.payload for r in received]),
            self.context,
        )


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
_INSERT_EVENT = (
    f"INSERT INTO financial_events ({', '.join(_EVENT_COLUMNS)})"
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(_EVENT_COLUMNS) + 1))})"
    " ON CONFLICT (external_id) DO NOTHING RETURNING id"
)
_PAID_COLUMNS = ", ".join(f"(charge).{column}" for column in PaidCharge.__dataclass_fields__)
_INGEST_DELIVERY = (
    f"SELECT delivery_id, outcome, reason, {_PAID_COLUMNS}"
    " FROM pix_ingest_delivery($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
)
_APPLY_RECEIVED = (
    f"SELECT outcome, reason, {_PAID_COLUMNS} FROM pix_apply_received($1, $2, $3, $4, $5, $6, $7, $8)"
)
_CHARGE_FOR_UPDATE = (
    select(PixCharge)
    .where(PixCharge.txid == bindparam("txid"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
