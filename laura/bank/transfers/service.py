"""Transfers: limits, the ledger movement, the audit record and the outbox event, all in the caller's unit
of work. The sender's account row is locked first, so one customer's transfers (and their daily limit)
are serialized while different customers' run in parallel; the ledger's no-overdraft flag is the final
word on the balance."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import BalanceCache
from laura.bank.accounts.errors import AccountNotActive, AccountNotFound
from laura.bank.metrics import count_transfer
from laura.bank.transfers.calendar import BRASILIA
from laura.bank.transfers.errors import (
    RecipientNotFound,
    SelfTransfer,
    TransferLimitExceeded,
    TransferNotCancellable,
    TransferNotFound,
)
from laura.bank.transfers.models import Transfer
from laura.bank.transfers.repository import TransferRepository
from laura.bank.transfers.schemas import CancelOut, P2PRequest
from laura.core.events import publish
from laura.core.money import from_cents, to_cents
from laura.core.models import utcnow, uuid7
from laura.ledger import service as ledger


@dataclass(frozen=True)
class Limits:
    """Per-transfer and per-day (Brasília calendar day) caps, from settings."""

    per_transfer: Decimal
    daily: Decimal
    pix_night: Decimal | None = None
    """Pix sent in one night (20:00-06:00 Brasília, Resolução BCB nº 142); None: no night cap."""


def start_of_day(now: datetime) -> datetime:
    """Midnight of `now`'s Brasília calendar day, in UTC: where the daily limit starts counting."""
    local = now.astimezone(BRASILIA)
    return datetime.combine(local.date(), time(0), tzinfo=BRASILIA).astimezone(UTC)


def enforce_limits(cents: int, sent_today: int, limits: Limits) -> None:
    """Refuse a transfer over the per-transfer cap, or one that would take the day past the daily cap; the
    caller holds the sender's account lock, and `sent_today` was read after it was granted."""
    if cents > to_cents(limits.per_transfer):
        raise TransferLimitExceeded(
            f"O limite por transferência é R$ {limits.per_transfer}", details={"limit": str(limits.per_transfer)}
        )
    if sent_today + cents > to_cents(limits.daily):
        raise TransferLimitExceeded(
            f"O limite diário de R$ {limits.daily} seria excedido",
            details={"limit": str(limits.daily), "usedToday": str(from_cents(sent_today))},
        )


async def check_limits(repo: TransferRepository, user_id: uuid.UUID, cents: int, limits: Limits) -> None:
    """`enforce_limits` with the day's sum read now (the caller already holds the sender's account lock)."""
    enforce_limits(cents, await repo.sent_since(user_id, start_of_day(utcnow())), limits)


def audit_transfer(session: AsyncSession, action: str, transfer: Transfer, old: dict | None = None) -> None:
    audit.record(
        session,
        action=action,
        resource_type="transfer",
        resource_id=str(transfer.id),
        old=old,
        new={"type": transfer.type, "status": transfer.status, "amountCents": transfer.amount_cents},
        actor_id=transfer.user_id,
    )


def event_data(transfer: Transfer) -> dict:
    return {
        "transferId": str(transfer.id),
        "type": transfer.type,
        "status": transfer.status,
        "amount": str(from_cents(transfer.amount_cents)),
        "failureReason": transfer.failure_reason,
    }


async def send_p2p(
    session: AsyncSession, *, user_id: uuid.UUID, data: P2PRequest, limits: Limits, cache: BalanceCache
) -> Transfer:
    """Move money between two customers of the bank at once (COMPLETED) or not at all."""
    if data.recipient_user_id == user_id:
        raise SelfTransfer(details=[{"field": "recipientUserId", "message": "must be another customer"}])
    repo = TransferRepository(session)
    parties = await repo.p2p_parties(user_id, data.recipient_user_id, start_of_day(utcnow()))
    if parties["sender_status"] is None:
        raise AccountNotFound()
    if parties["sender_status"] != "ACTIVE":
        raise AccountNotActive()
    if parties["recipient_status"] != "ACTIVE":
        raise RecipientNotFound()
    cents = to_cents(data.amount)
    enforce_limits(cents, parties["sent"], limits)
    now = utcnow()
    transfer = Transfer(
        id=uuid7(),
        user_id=user_id,
        type="P2P",
        amount_cents=cents,
        fee_cents=0,
        status="COMPLETED",
        description=data.description,
        recipient_user_id=data.recipient_user_id,
        created_at=now,
        completed_at=now,
    )
    tx = await ledger.post(
        session,
        [
            ledger.Line.debit(accounts.ledger_code(user_id), cents),
            ledger.Line.credit(accounts.ledger_code(data.recipient_user_id), cents),
        ],
        reference=f"transfer:{transfer.id}",
        reason="P2P_TRANSFER",
        description=data.description or "Transferência entre contas",
        entity_type="transfer",
        entity_id=str(transfer.id),
    )
    transfer.ledger_transaction_id = tx.id
    repo.insert_at_commit(transfer)
    audit_transfer(session, "TRANSFER_COMPLETED", transfer)
    await publish(session, "transfer.completed", event_data(transfer), user_ids=[user_id])
    await publish(
        session,
        "transfer.received",
        {"transferId": str(transfer.id), "amount": str(data.amount), "fromUserId": str(user_id)},
        user_ids=[data.recipient_user_id],
    )
    cache.invalidate_after_commit(session, user_id, data.recipient_user_id)
    count_transfer(session, transfer)
    return transfer


async def get_transfer(session: AsyncSession, user_id: uuid.UUID, transfer_id: uuid.UUID) -> Transfer:
    """The caller's transfer; someone else's is not found."""
    transfer = await TransferRepository(session).get(transfer_id, user_id=user_id)
    if transfer is None:
        raise TransferNotFound()
    return transfer


async def list_transfers(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    status: str | None,
    type: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Transfer], int]:
    return await TransferRepository(session).page(
        user_id, status=status, type=type, sort=sort, descending=descending, offset=offset, limit=limit
    )


async def cancel_transfer(
    session: AsyncSession, *, user_id: uuid.UUID, transfer_id: uuid.UUID, reason: str | None, cache: BalanceCache
) -> CancelOut:
    """Cancel a transfer that has not left: SCHEDULED, or PENDING with its money still only held."""
    transfer = await TransferRepository(session).get(transfer_id, user_id=user_id, lock=True)
    if transfer is None:
        raise TransferNotFound()
    cancellable = transfer.status == "SCHEDULED" or (
        transfer.status == "PENDING"
        and transfer.type != "PIX"
        and transfer.hold_id is not None
        and transfer.e2e_id is None
    )
    if not cancellable:
        raise TransferNotCancellable(details={"status": transfer.status})
    old = {"status": transfer.status}
    if transfer.hold_id is not None:
        await ledger.void_hold(session, transfer.hold_id)
    transfer.status = "CANCELLED"
    transfer.cancelled_at = utcnow()
    transfer.cancel_reason = reason
    await session.flush()
    audit_transfer(session, "TRANSFER_CANCELLED", transfer, old)
    await publish(session, "transfer.cancelled", event_data(transfer), user_ids=[user_id])
    cache.invalidate_after_commit(session, user_id)
    count_transfer(session, transfer)
    return CancelOut(id=transfer.id, status=transfer.status, cancelled_at=transfer.cancelled_at, reason=reason)


async def receipt_parties(session: AsyncSession, user_id: uuid.UUID, transfer_id: uuid.UUID) -> tuple[Transfer, str | None]:
    """The caller's transfer and, for one to another customer, that customer's name (for the receipt)."""
    transfer = await get_transfer(session, user_id, transfer_id)
    name = None
    if transfer.recipient_user_id is not None:
        name = await TransferRepository(session).user_name(transfer.recipient_user_id)
    return transfer, name
