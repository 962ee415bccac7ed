"""The ops review of refunds owed for rides (`payment_refunds`, written by sql/refund.sql): listed for
admins, and closed once the payer has been refunded at the PSP.

Closing one books the money leaving: D REEMBOLSOS_A_PAGAR (2300) / C PIX_A_RECEBER (1300), reference
'ride-refunded:<e2eId>', so 2300 holds what is still owed and 1300 what the PSP still holds for us. The
refund itself (Efí's devolução) is made at the PSP by a person; this records it, audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.ledger import service as ledger
from laura.mobility.payments.errors import RefundAlreadyResolved, RefundNotFound
from laura.mobility.payments.models import PaymentRefund, RefundStatus
from laura.mobility.payments.repository import PaymentRepository

REFUNDS_OWED = "2300"
RECEIVABLE = "1300"


async def list_refunds(
    session: AsyncSession, *, status: RefundStatus | None, offset: int, limit: int
) -> tuple[list[PaymentRefund], int]:
    """A page of the review queue, oldest first."""
    return await PaymentRepository(session).refunds(
        status=status.value if status else None, offset=offset, limit=limit
    )


async def resolve_refund(
    session: AsyncSession, *, refund_id: uuid.UUID, admin_id: uuid.UUID, note: str, now: datetime
) -> PaymentRefund:
    """Close an OPEN refund as REFUNDED (409 if closed already, 404 if none), its money booked as gone."""
    refund = await PaymentRepository(session).refund_for_update(refund_id)
    if refund is None:
        raise RefundNotFound()
    if refund.status != RefundStatus.OPEN:
        raise RefundAlreadyResolved()
    refund.status = RefundStatus.REFUNDED.value
    refund.resolved_at = now
    refund.resolved_by = admin_id
    refund.note = note
    await session.flush()
    await ledger.post(
        session,
        [
            ledger.Line.debit(REFUNDS_OWED, refund.amount_cents),
            ledger.Line.credit(RECEIVABLE, refund.amount_cents),
        ],
        reference=f"ride-refunded:{refund.e2e_id}",
        reason="RIDE_REFUNDED",
        description="Pagamento devolvido",
        entity_type="ride",
        entity_id=str(refund.ride_id),
        external_ref=refund.e2e_id,
    )
    audit.record(
        session,
        action="payment.refund.resolved",
        resource_type="payment_refund",
        resource_id=str(refund.id),
        old={"status": RefundStatus.OPEN.value},
        new={"status": RefundStatus.REFUNDED.value, "amountCents": refund.amount_cents, "note": note},
        actor_id=admin_id,
    )
    return refund
