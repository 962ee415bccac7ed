"""What features call to move money over Pix: create (and cancel) a charge, send a Pix.

Ordering, and why each is safe:

- A charge is created at the PSP first (PUT with a txid we picked, so a retried call creates nothing twice)
  and stored second, in the caller's transaction. If that transaction rolls back, the PSP holds a charge
  nobody was shown; were it ever paid, its txid is unknown to us, so the webhook records the Pix as
  `unmatched` for ops and it never reaches the books.
- A send is the other way round: money leaves, so the row (PROCESSING) and the job that submits it are
  written in the caller's transaction, and the PSP hears of it only once that committed. A rolled back
  transaction sends nothing; a committed one is submitted by the job, retried, and read back by
  reconciliation (a PUT with the same idEnvio is idempotent at the PSP).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.db import settings_of
from laura.core.jobs import AlreadyEnqueued, defer
from laura.core.money import from_cents, to_cents
from laura.pix.errors import ChargeNotActive, ChargeNotFound
from laura.pix.handlers import (
    close_hook,
    register_close_hook,
    register_paid_hook,
    register_send_handler,
    send_handlers,
)
from laura.pix.intake import fail_send, settle_send
from laura.pix.keys import parse_pix_key
from laura.pix.metrics import PIX_CHARGES, count_after_commit
from laura.pix.models import PixCharge, PixChargeStatus, PixSend, PixSendStatus
from laura.pix.psp import Charge, EfiClient, PspError, SentPixStatus, new_id_envio, new_txid
from laura.pix.repository import PixRepository, purpose_has_effect

__all__ = [
    "cancel_charge",
    "closed",
    "create_charge",
    "get_owned_charge",
    "open_charge",
    "record_charge",
    "register_close_hook",
    "register_paid_hook",
    "register_send_handler",
    "send_pix",
    "submit_send",
]

SUBMIT_SEND_TASK = "pix.submit_send"
RECONCILE_TASK = "pix.reconcile"
"""The periodic reconciliation (`pix.tasks.reconcile_job`), which an operator may also ask for now."""


async def create_charge(
    session: AsyncSession,
    psp: EfiClient,
    *,
    purpose: str,
    entity_id: str,
    owner_id: uuid.UUID,
    amount: Decimal,
    expires_in: int = 3600,
    description: str | None = None,
    pix_key: str | None = None,
) -> PixCharge:
    """Issue an immediate charge for `entity_id` of `purpose`, payable to our key (`pix_key`, by default
    LAURA_PSP_PIX_KEY); its payment reaches the purpose's effect exactly once (`laura.pix.handlers`).
    A purpose without an effect is refused before the PSP is asked (LookupError).

    The PSP is called inside the caller's transaction; a caller holding locks it must not keep across an
    HTTP call uses `open_charge` (no session) and `record_charge` (its own short transaction) instead."""
    if not await purpose_has_effect(session, purpose):
        raise LookupError(f"no Pix effect registered for purpose {purpose!r} (pix_charge_purposes)")
    remote = await open_charge(
        psp,
        txid=new_txid(),
        amount=amount,
        expires_in=expires_in,
        description=description,
        pix_key=pix_key or settings_of(session).psp_pix_key,
    )
    return await record_charge(
        session, remote, purpose=purpose, entity_id=entity_id, owner_id=owner_id, description=description
    )


async def open_charge(
    psp: EfiClient, *, txid: str, amount: Decimal, expires_in: int, description: str | None, pix_key: str
) -> Charge:
    """The charge at the PSP only (`PUT /v2/cob/{txid}`), with no session: the caller picked `txid`, so
    calling again with the same arguments answers the same charge and creates nothing twice."""
    return await psp.create_charge(txid, from_cents(to_cents(amount)), pix_key, expires_in, description)


async def record_charge(
    session: AsyncSession,
    remote: Charge,
    *,
    purpose: str,
    entity_id: str,
    owner_id: uuid.UUID,
    description: str | None = None,
) -> PixCharge:
    """Our row of a charge the PSP created (`open_charge`), ACTIVE; the row already there when a concurrent
    caller recorded the same txid first (the caller serializes its writers, e.g. under its own row lock)."""
    repository = PixRepository(session)
    existing = await repository.charge(remote.txid)
    if existing is not None:
        return existing
    charge = PixCharge(
        txid=remote.txid,
        purpose=purpose,
        entity_id=entity_id,
        owner_id=owner_id,
        amount_cents=to_cents(remote.amount),
        status=PixChargeStatus.ACTIVE,
        description=description,
        pix_copia_e_cola=remote.pix_copy_paste or "",
        location=remote.location,
        expires_at=remote.expires_at,
    )
    await repository.add(charge)
    count_after_commit(session, PIX_CHARGES, purpose, PixChargeStatus.ACTIVE)
    return charge


async def cancel_charge(session: AsyncSession, psp: EfiClient, *, txid: str) -> PixCharge:
    """Withdraw an unpaid charge at the PSP, then in our books (e.g. the ride was cancelled)."""
    repository = PixRepository(session)
    charge = await repository.charge_for_update(txid)
    if charge is None:
        raise ChargeNotFound()
    if charge.status != PixChargeStatus.ACTIVE:
        raise ChargeNotActive(details={"status": charge.status})
    try:
        await psp.cancel_charge(txid)
    except PspError as exc:
        # Efí refuses to remove a charge already paid: the Pix is on its way and will be applied.
        raise ChargeNotActive("The Pix charge was already paid") from exc
    charge.status = PixChargeStatus.CANCELLED
    await session.flush()
    count_after_commit(session, PIX_CHARGES, charge.purpose, PixChargeStatus.CANCELLED)
    await closed(session, charge)
    return charge


async def closed(session: AsyncSession, charge: PixCharge) -> None:
    """A charge just closed unpaid (its status flushed, its row locked): its purpose's close hook runs."""
    hook = close_hook(charge.purpose)
    if hook is not None:
        await hook(session, charge)


async def get_owned_charge(session: AsyncSession, *, txid: str, owner_id: uuid.UUID) -> PixCharge:
    """A charge of the caller; anyone else's answers 404."""
    charge = await PixRepository(session).owned_charge(txid, owner_id)
    if charge is None:
        raise ChargeNotFound()
    return charge


async def send_pix(
    session: AsyncSession,
    *,
    purpose: str,
    entity_id: str,
    amount: Decimal,
    payee_key: str,
    description: str | None = None,
) -> PixSend:
    """Record a Pix to send to `payee_key` and enqueue its submission, both in the caller's transaction.

    Returns the PROCESSING row; the outcome reaches the purpose's `on_done` / `on_failed` exactly once.
    """
    send_handlers(purpose)
    send = PixSend(
        id_envio=new_id_envio(),
        purpose=purpose,
        entity_id=entity_id,
        amount_cents=to_cents(amount),
        payee_key=parse_pix_key(payee_key).value,
        description=description,
        status=PixSendStatus.PROCESSING,
    )
    await PixRepository(session).add(send)
    await defer(session, SUBMIT_SEND_TASK, args={"id_envio": send.id_envio})
    return send


async def submit_send(session: AsyncSession, psp: EfiClient, *, id_envio: str, payer_key: str) -> None:
    """Hand a recorded send to the PSP (again, harmlessly, if it already has it).

    A refusal fails the send through `on_failed`; an unreachable PSP raises `PspUnavailable` so the job
    retries. No row lock is held during the PSP call: the settle path takes it afterwards.
    """
    repository = PixRepository(session)
    send = await repository.send(id_envio)
    if send is None or send.status != PixSendStatus.PROCESSING:
        return
    try:
        sent = await psp.send_pix(
            id_envio, from_cents(send.amount_cents), payer_key, send.payee_key, send.description
        )
    except PspError as exc:
        await fail_send(session, id_envio=id_envio, error=exc.message, at=datetime.now(UTC))
        return
    await repository.mark_submitted(id_envio, sent.e2e_id)
    if sent.status is not SentPixStatus.EM_PROCESSAMENTO:
        await settle_send(session, sent, source="psp_answer")


async def webhook_deliveries(
    session: AsyncSession, *, refused_only: bool, offset: int, limit: int
) -> tuple[list[Any], int]:
    """The PSP's webhook deliveries as stored, newest first (`refused_only`: those we could not read), for
    operations; a Pix a lost or refused delivery carried is settled by reconciliation, not by replaying it."""
    return await PixRepository(session).deliveries(refused_only=refused_only, offset=offset, limit=limit)


async def prune_webhook_deliveries(
    session: AsyncSession, *, now: datetime, retention_days: int | None, limit: int = 10_000
) -> int:
    """Delete (up to `limit`) deliveries older than `retention_days`; none when it is None (the default:
    deliveries are the PSP's evidence). How many were deleted."""
    if retention_days is None:
        return 0
    return await PixRepository(session).delete_deliveries_before(now - timedelta(days=retention_days), limit)


async def reconcile_now(session: AsyncSession, *, actor_id: uuid.UUID, now: datetime) -> bool:
    """Queue a reconciliation run at once (what a lost or refused webhook carried is read back from the
    PSP), audited; False when a run is already waiting, which will do the same."""
    try:
        await defer(session, RECONCILE_TASK, args={"timestamp": int(now.timestamp())})
    except AlreadyEnqueued:
        return False
    audit.record(
        session,
        action="pix.reconcile.requested",
        resource_type="pix_reconciliation",
        resource_id=None,
        new={"requestedAt": now.isoformat()},
        actor_id=actor_id,
    )
    return True
