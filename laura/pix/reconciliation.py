"""Reconciliation: ask the PSP about what our books still hold open, and apply its answer through the same
path as a webhook (`laura.pix.intake`), so a Pix whose webhook was lost still counts, once.

Each function handles one charge or send in the caller's transaction and calls the PSP before its first
statement, so no transaction (nor row lock) is open while the PSP answers. The job in `tasks.py` gives each
item its own unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.pix.intake import Outcome, apply_received_pix, settle_send
from laura.pix.metrics import CHARGES_ORPHANED, PIX_CHARGES, count_after_commit
from laura.pix.models import PixCharge, PixChargeStatus
from laura.pix.psp import ChargeStatus, EfiClient, PspError
from laura.pix.repository import PixRepository
from laura.pix.service import closed, submit_send

log = structlog.get_logger(__name__)

ChargeOutcome = Literal[
    "applied", "duplicate", "unmatched", "flagged", "expired", "cancelled", "open", "orphaned", "unknown"
]
SendOutcome = Outcome | Literal["resubmitted"]
_FIRST_OF_PAYMENTS: tuple[ChargeOutcome, ...] = ("applied", "flagged", "unmatched")
"""What a charge's reconciliation answers when its payments had several outcomes: the first one found."""

_REMOVED = (ChargeStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR, ChargeStatus.REMOVIDA_PELO_PSP)

EXPIRY_MARGIN = timedelta(minutes=1)
"""A charge is closed as EXPIRED only this long after its expiry, so a payment the PSP accepted just in
time (its clock a little behind ours) is applied rather than flagged."""


async def open_charges(session: AsyncSession, *, now: datetime, grace_seconds: int, limit: int) -> list[str]:
    """Txids ACTIVE in our books for longer than the grace period (a webhook may still be on its way)."""
    return await PixRepository(session).open_charges(
        created_before=now - timedelta(seconds=grace_seconds), limit=limit
    )


async def processing_sends(
    session: AsyncSession, *, now: datetime, grace_seconds: int, limit: int
) -> list[str]:
    """idEnvios PROCESSING for longer than the grace period."""
    return await PixRepository(session).processing_sends(
        created_before=now - timedelta(seconds=grace_seconds), limit=limit
    )


async def reconcile_charge(
    session: AsyncSession, psp: EfiClient, *, txid: str, now: datetime
) -> ChargeOutcome:
    """Read the charge at the PSP: its Pix are applied (a missed webhook), a charge past its expiry (plus
    `EXPIRY_MARGIN`) becomes EXPIRED, one removed at the PSP CANCELLED; an open one stays ACTIVE. One the
    PSP does not know is handled by `_unknown_at_psp`."""
    try:
        remote = await psp.get_charge(txid)
    except PspError as exc:
        if exc.psp_status != 404:
            raise
        return await _unknown_at_psp(session, txid=txid, now=now)
    if remote.payments:
        outcomes = [
            await apply_received_pix(session, pix, source="reconciliation") for pix in remote.payments
        ]
        for outcome in _FIRST_OF_PAYMENTS:
            if outcome in outcomes:
                return outcome
        return "duplicate"
    if remote.status in _REMOVED:
        closed = PixChargeStatus.CANCELLED
    elif not remote.is_payable(now - EXPIRY_MARGIN):
        closed = PixChargeStatus.EXPIRED
    else:
        return "open"
    charge = await PixRepository(session).charge_for_update(txid)
    if charge is None or charge.status != PixChargeStatus.ACTIVE:
        return "duplicate"
    await _close(session, charge, closed)
    return "cancelled" if closed is PixChargeStatus.CANCELLED else "expired"


async def _unknown_at_psp(session: AsyncSession, *, txid: str, now: datetime) -> ChargeOutcome:
    """A charge the PSP answers 404 for (it lost its state, e.g. a restarted sandbox) can never be paid.
    Once past its expiry (plus `EXPIRY_MARGIN`) it is closed as EXPIRED and counted as orphaned, instead
    of failing every run forever; before that it stays open (the PSP may only be confused for a while)."""
    charge = await PixRepository(session).charge_for_update(txid)
    if charge is None or charge.status != PixChargeStatus.ACTIVE:
        return "duplicate"
    if charge.expires_at > now - EXPIRY_MARGIN:
        log.warning("pix.charge.unknown_at_psp", txid=txid, expires_at=charge.expires_at.isoformat())
        return "unknown"
    await _close(session, charge, PixChargeStatus.EXPIRED)
    count_after_commit(session, CHARGES_ORPHANED)
    log.warning("pix.charge.orphaned", txid=txid, purpose=charge.purpose)
    return "orphaned"


async def _close(session: AsyncSession, charge: PixCharge, status: PixChargeStatus) -> None:
    charge.status = status
    await session.flush()
    count_after_commit(session, PIX_CHARGES, charge.purpose, status)
    await closed(session, charge)


async def reconcile_send(
    session: AsyncSession, psp: EfiClient, *, id_envio: str, payer_key: str
) -> SendOutcome:
    """Read a PROCESSING send back by idEnvio and settle it; one the PSP never received is submitted
    again (same idEnvio, so at most one Pix ever leaves)."""
    try:
        remote = await psp.get_sent_pix_by_id(id_envio)
    except PspError as exc:
        if exc.psp_status != 404:
            raise
        await submit_send(session, psp, id_envio=id_envio, payer_key=payer_key)
        return "resubmitted"
    return await settle_send(session, remote, source="reconciliation")
