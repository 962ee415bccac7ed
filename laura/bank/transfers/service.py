"""Transfers: limits, the ledger movement, the audit record and the outbox event, all in one unit of work
(the caller's session, or for a P2P one statement). The sender's account row is locked first, so one
customer's transfers (and their daily limit) are serialized while different customers' run in parallel;
the ledger's no-overdraft flag is the final word on the balance."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import BalanceCache
from laura.bank.accounts.errors import AccountNotActive, AccountNotFound
from laura.bank.metrics import count_committed_transfer, count_transfer
from laura.bank.spending.categories import SpendingCategory
from laura.bank.spending.changes import spending_changed
from laura.bank.transfers import repository
from laura.bank.transfers.calendar import BRASILIA
from laura.bank.transfers.errors import (
    RecipientNotFound,
    SelfTransfer,
    TransferLimitExceeded,
    TransferNotCancellable,
    TransferNotFound,
)
from laura.bank.transfers.models import Transfer, TransferStatus
from laura.bank.transfers.outcomes import P2PSendOutcome
from laura.bank.transfers.repository import TransferRepository
from laura.bank.transfers.schemas import P2POut, P2PRequest
from laura.core.db import Database
from laura.core.errors import AppError, ValidationFailed
from laura.core.events import publish
from laura.core.models import utcnow, uuid7
from laura.core.money import from_cents, to_cents
from laura.core.statement import StatementKey, idempotency_args, statement_committed, statement_event_data
from laura.identity.service import Caller, session_ended
from laura.ledger import service as ledger


@dataclass(frozen=True)
class Limits:
    """Per-transfer and per-day (Brasília calendar day) caps, from settings."""

    per_transfer: Decimal
    daily: Decimal
    pix_night: Decimal | None = None
    """Pix sent in one night (20:00-06:00 Brasília, Resolução BCB nº 142); None: no night cap."""
    schedule_max_days: int | None = None
    """How far ahead a transfer may be scheduled; None: no bound."""


def start_of_day(now: datetime) -> datetime:
    """Midnight of `now`'s Brasília calendar day, in UTC: where the daily limit starts counting."""
    local = now.astimezone(BRASILIA)
    return datetime.combine(local.date(), time(0), tzinfo=BRASILIA).astimezone(UTC)


def over_limit(cents: int, sent_today: int, limits: Limits) -> P2PSendOutcome | None:
    """The cap a transfer of `cents` would break after `sent_today`, if any: the per-transfer cap first. The
    same rule is `bank_transfer_over_limit` in SQL (sql/p2p_send.sql), held to this one by a parity test."""
    if cents > to_cents(limits.per_transfer):
        return P2PSendOutcome.OVER_TRANSFER_LIMIT
    if sent_today + cents > to_cents(limits.daily):
        return P2PSendOutcome.OVER_DAILY_LIMIT
    return None


def limit_exceeded(broken: P2PSendOutcome, sent_today: int, limits: Limits) -> TransferLimitExceeded:
    """The 422 for the cap `over_limit` (or `bank_p2p_send`) found broken."""
    if broken is P2PSendOutcome.OVER_TRANSFER_LIMIT:
        return TransferLimitExceeded(
            f"O limite por transferência é R$ {limits.per_transfer}",
            details={"limit": str(limits.per_transfer)},
        )
    return TransferLimitExceeded(
        f"O limite diário de R$ {limits.daily} seria excedido",
        details={"limit": str(limits.daily), "usedToday": str(from_cents(sent_today))},
    )


def check_schedule(when: datetime | None, now: datetime, limits: Limits) -> None:
    """Refuse a `scheduledFor` further ahead than the bank schedules (a 422, before anything is locked)."""
    if when is None or limits.schedule_max_days is None:
        return
    if when > now + timedelta(days=limits.schedule_max_days):
        message = f"at most {limits.schedule_max_days} days ahead"
        raise ValidationFailed(
            f"scheduledFor is {message}", details=[{"field": "scheduledFor", "message": message}]
        )


def enforce_limits(cents: int, sent_today: int, limits: Limits) -> None:
    """Refuse a transfer over the per-transfer cap, or one that would take the day past the daily cap; the
    caller holds the sender's account lock, and `sent_today` was read after it was granted."""
    broken = over_limit(cents, sent_today, limits)
    if broken is not None:
        raise limit_exceeded(broken, sent_today, limits)


async def check_limits(repo: TransferRepository, user_id: uuid.UUID, cents: int, limits: Limits) -> None:
    """`enforce_limits` with the day's sum read now (the caller already holds the sender's account lock)."""
    enforce_limits(cents, await repo.sent_since(user_id, start_of_day(utcnow())), limits)


def _audited(transfer: Transfer) -> dict:
    return {"type": transfer.type, "status": transfer.status, "amountCents": transfer.amount_cents}


def audit_transfer(session: AsyncSession, action: str, transfer: Transfer, old: dict | None = None) -> None:
    audit.record(
        session,
        action=action,
        resource_type="transfer",
        resource_id=str(transfer.id),
        old=old,
        new=_audited(transfer),
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


def _refusal(outcome: P2PSendOutcome, sent: int, limits: Limits) -> AppError:
    """The error for a refusal `bank_p2p_send` returned instead of writing anything, from its outcome alone
    (the limits are not judged again here, so the two languages cannot disagree into a 500)."""
    refusals: dict[P2PSendOutcome, Callable[[], AppError]] = {
        P2PSendOutcome.SESSION_ENDED: session_ended,
        P2PSendOutcome.NO_ACCOUNT: AccountNotFound,
        P2PSendOutcome.ACCOUNT_NOT_ACTIVE: AccountNotActive,
        P2PSendOutcome.NO_RECIPIENT: RecipientNotFound,
        P2PSendOutcome.OVER_TRANSFER_LIMIT: lambda: limit_exceeded(outcome, sent, limits),
        P2PSendOutcome.OVER_DAILY_LIMIT: lambda: limit_exceeded(outcome, sent, limits),
    }
    return refusals[outcome]()


async def send_p2p(
    db: Database,
    *,
    caller: Caller,
    data: P2PRequest,
    limits: Limits,
    cache: BalanceCache,
    idempotency: StatementKey | None,
) -> Transfer:
    """Move money between two customers of the bank at once (COMPLETED) or not at all.

    The whole unit of work is one statement (`bank_p2p_send`, sent in autocommit): the caller's session
    check, the Idempotency-Key's claim, the sender's account lock, both accounts' statuses, the limits
    (the day's sum read after the lock), the ledger posting, and the transfer, audit, outbox and answer
    rows. The answer stored for the key's replays is the route's own (`P2POut` of the transfer).
    """
    try:
        transfer = await _send_p2p(db, caller, data, limits, idempotency)
    except AppError as error:
        if idempotency is not None:
            await idempotency.store_refusal(error)
        raise
    await cache.invalidate(caller.id, data.recipient_user_id)
    count_committed_transfer(transfer)
    statement_committed()
    return transfer


async def _send_p2p(
    db: Database,
    caller: Caller,
    data: P2PRequest,
    limits: Limits,
    idempotency: StatementKey | None,
) -> Transfer:
    if data.recipient_user_id == caller.id:
        raise SelfTransfer(details=[{"field": "recipientUserId", "message": "must be another customer"}])
    now = utcnow()
    cents = to_cents(data.amount)
    transfer = Transfer(
        id=uuid7(),
        user_id=caller.id,
        type="P2P",
        amount_cents=cents,
        fee_cents=0,
        status=TransferStatus.COMPLETED,
        description=data.description,
        recipient_user_id=data.recipient_user_id,
        created_at=now,
        completed_at=now,
    )
    received = {"transferId": str(transfer.id), "amount": str(data.amount), "fromUserId": str(caller.id)}
    try:
        row = await repository.send_p2p(
            db,
            session=caller.session_id,
            sender=caller.id,
            transfer_id=transfer.id,
            recipient=data.recipient_user_id,
            cents=cents,
            description=data.description,
            now=now,
            ledger_tx_id=uuid7(),
            ledger_reference=f"transfer:{transfer.id}",
            ledger_reason="P2P_TRANSFER",
            ledger_description=data.description or "Transferência entre contas",
            sender_code=accounts.ledger_code(caller.id),
            recipient_code=accounts.ledger_code(data.recipient_user_id),
            day_start=start_of_day(now),
            max_cents=to_cents(limits.per_transfer),
            daily_cents=to_cents(limits.daily),
            **idempotency_args(idempotency, P2POut.model_validate(transfer)),
            **audit.statement_args(
                action="TRANSFER_COMPLETED",
                resource_type="transfer",
                resource_id=str(transfer.id),
                new=_audited(transfer),
                actor_id=caller.id,
                occurred_at=now,
            ),
            event_types=["transfer.completed", "transfer.received"],
            event_data=[statement_event_data(event_data(transfer)), statement_event_data(received)],
            event_users=[caller.id, data.recipient_user_id],
        )
    except asyncpg.PostgresError as exc:
        error = ledger.error_from(exc)
        if error is None:
            raise
        raise error from exc
    outcome = P2PSendOutcome(row["outcome"])
    if outcome in (P2PSendOutcome.IN_PROGRESS, P2PSendOutcome.ANSWERED):
        assert idempotency is not None
        idempotency.settle(
            outcome is P2PSendOutcome.ANSWERED, row["stored_hash"], row["stored_status"], row["stored_body"]
        )
    if outcome is not P2PSendOutcome.COMPLETED:
        raise _refusal(outcome, row["sent"] or 0, limits)
    return transfer


async def get_transfer(session: AsyncSession, user_id: uuid.UUID, transfer_id: uuid.UUID) -> Transfer:
    """The caller's transfer; someone else's is not found."""
    transfer = await TransferRepository(session).get(transfer_id, user_id=user_id)
    if transfer is None:
        raise TransferNotFound()
    return transfer


async def categorize_transfer(
    session: AsyncSession, user_id: uuid.UUID, transfer_id: uuid.UUID, category: SpendingCategory | None
) -> Transfer:
    """Tag the caller's transfer with the spending category it counts in (None, or TRANSFERS: untagged);
    someone else's is not found. Audited and published when it changes what the customer spent on."""
    transfer = await TransferRepository(session).get(transfer_id, user_id=user_id, lock=True)
    if transfer is None:
        raise TransferNotFound()
    old = transfer.spending_category
    transfer.category = None if category in (None, SpendingCategory.TRANSFERS) else category
    if transfer.spending_category == old:
        return transfer
    await session.flush()
    audit.record(
        session,
        action="TRANSFER_CATEGORIZED",
        resource_type="transfer",
        resource_id=str(transfer.id),
        old={"category": old},
        new={"category": transfer.spending_category},
        actor_id=user_id,
    )
    await publish(
        session,
        "transfer.categorized",
        {"transferId": str(transfer.id), "category": transfer.spending_category, "previousCategory": old},
        user_ids=[user_id],
    )
    await spending_changed(session, user_id)  # its amount moved from category `old` to the new one
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


def cancellable(transfer: Transfer) -> bool:
    """Whether it has not left yet: SCHEDULED, or a PENDING TED whose money is still only held (a PENDING
    Pix is already with the PSP)."""
    return transfer.status == TransferStatus.SCHEDULED or (
        transfer.status == TransferStatus.PENDING
        and transfer.type != "PIX"
        and transfer.hold_id is not None
        and transfer.e2e_id is None
    )


async def cancel_transfer(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    transfer_id: uuid.UUID,
    reason: str | None,
    cache: BalanceCache,
) -> Transfer:
    """Cancel a transfer that has not left: SCHEDULED, or PENDING with its money still only held."""
    transfer = await TransferRepository(session).get(transfer_id, user_id=user_id, lock=True)
    if transfer is None:
        raise TransferNotFound()
    if not cancellable(transfer):
        raise TransferNotCancellable(details={"status": transfer.status})
    old = {"status": transfer.status}
    if transfer.hold_id is not None:
        await ledger.void_hold(session, transfer.hold_id)
    transfer.status = TransferStatus.CANCELLED
    transfer.cancelled_at = utcnow()
    transfer.cancel_reason = reason
    await session.flush()
    audit_transfer(session, "TRANSFER_CANCELLED", transfer, old)
    await publish(session, "transfer.cancelled", event_data(transfer), user_ids=[user_id])
    cache.invalidate_after_commit(session, user_id)
    count_transfer(session, transfer)
    return transfer


async def receipt_parties(
    session: AsyncSession, user_id: uuid.UUID, transfer_id: uuid.UUID
) -> tuple[Transfer, str | None]:
    """The caller's transfer and, for one to another customer, that customer's name (for the receipt)."""
    transfer = await get_transfer(session, user_id, transfer_id)
    name = None
    if transfer.recipient_user_id is not None:
        name = await TransferRepository(session).user_name(transfer.recipient_user_id)
    return transfer, name
