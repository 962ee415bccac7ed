"""Pix transfers: to a key (or a static BR Code), now or on a scheduled date.

A key in our own directory settles at once inside the bank: one ledger transaction from the sender's
account to the recipient's, COMPLETED, with an e2eId minted under our ISPB. So does a charge of the
platform's own paid from an account (`laura.pix.internal`, e.g. a ride's fare, by its dynamic BR Code or
from the ride's payment): the customer's account to the charge's receivable, then the Pix applied as if
the PSP had sent it. Any other key leaves through
the PSP: the amount is held on the sender's account (towards the Pix clearing account), the send is
recorded with its submit job in the same transaction (`laura.pix.service.send_pix`), and the PSP's outcome
posts the hold (COMPLETED) or voids it (FAILED, money back) through the "bank.pix_out" send handlers.

The Central Bank's night rule caps what a customer sends by Pix between 20:00 and 06:00 Brasília; the
sum covers the Pix that moved money since the current night began.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import BalanceCache, invalidate_balances_after_commit
from laura.bank.accounts.errors import AccountNotActive, AccountNotFound
from laura.bank.accounts.models import AccountStatus
from laura.bank.metrics import count_transfer
from laura.bank.pix_keys import service as pix_keys
from laura.bank.spending.changes import spending_changed
from laura.bank.transfers.calendar import is_pix_night, night_window_start
from laura.bank.transfers.errors import (
    BrCodeAmountMismatch,
    DynamicBrCodeUnsupported,
    RecipientNotFound,
    SelfTransfer,
    TransferLimitExceeded,
)
from laura.bank.transfers.models import Transfer, TransferStatus
from laura.bank.transfers.repository import TransferRepository
from laura.bank.transfers.schemas import PixRequest
from laura.bank.transfers.service import Limits, audit_transfer, check_limits, check_schedule, event_data
from laura.core.db import settings_of
from laura.core.errors import ValidationFailed
from laura.core.events import publish
from laura.core.jobs import defer
from laura.core.models import utcnow, uuid7
from laura.core.money import from_cents, to_cents
from laura.ledger import service as ledger
from laura.ledger.errors import InsufficientFunds
from laura.pix import internal
from laura.pix.brcode import parse_brcode
from laura.pix.internal import InternalDebit, register_account_debit
from laura.pix.keys import PixKey, parse_pix_key
from laura.pix.models import PixCharge, PixSend
from laura.pix.service import register_send_handler, send_pix

log = structlog.get_logger(__name__)

PIX_OUT = "bank.pix_out"
EXECUTE_TASK = "bank.execute_scheduled_transfer"
ISPB = "99999999"
"""Our ISPB, the prefix of the e2eIds we mint for Pix settled inside the bank."""

_E2E_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class PixOrder:
    key: PixKey
    amount_cents: int


def new_e2e_id(now: datetime) -> str:
    """`E` + ISPB + yyyyMMddHHmm (UTC) + 11 alphanumerics: the 32 characters of a Pix end-to-end id."""
    suffix = "".join(secrets.choice(_E2E_ALPHABET) for _ in range(11))
    return f"E{ISPB}{now:%Y%m%d%H%M}{suffix}"


def resolve_order(data: PixRequest) -> PixOrder:
    """The key and amount to pay: as given, or read from a static BR Code (400 for an invalid key or code)."""
    if data.br_code is None:
        assert data.amount is not None, "PixRequest requires amount with pixKey"
        return PixOrder(parse_pix_key(data.pix_key or ""), to_cents(data.amount))
    code = parse_brcode(data.br_code)
    if code.key is None:
        raise DynamicBrCodeUnsupported(details={"location": code.location})
    if code.amount is not None and data.amount is not None and code.amount != data.amount:
        raise BrCodeAmountMismatch(details={"brCodeAmount": str(code.amount)})
    amount = code.amount if code.amount is not None else data.amount
    if amount is None:
        raise ValidationFailed(
            "This QR Code carries no amount: send amount",
            details=[{"field": "amount", "message": "required"}],
        )
    return PixOrder(parse_pix_key(code.key), to_cents(amount))


async def _our_charge(session: AsyncSession, data: PixRequest) -> PixCharge | None:
    """The platform's own charge behind a dynamic BR Code (a ride's QR Code, say), or None."""
    if data.br_code is None:
        return None
    location = parse_brcode(data.br_code).location
    return None if location is None else await internal.charge_at(session, location)


async def _pay_our_charge(
    session: AsyncSession, user_id: uuid.UUID, data: PixRequest, charge: PixCharge, now: datetime
) -> Transfer:
    """A dynamic BR Code of ours is paid now, inside Laura (`laura.pix.internal`, which calls `_pay_charge`
    under the charge's lock): never scheduled, and for the charge's amount only."""
    if data.scheduled_for is not None:
        raise ValidationFailed(
            "A Laura charge is paid at once: send no scheduledFor",
            details=[{"field": "scheduledFor", "message": "not with a Laura charge"}],
        )
    if data.amount is not None and to_cents(data.amount) != charge.amount_cents:
        raise BrCodeAmountMismatch(details={"brCodeAmount": str(from_cents(charge.amount_cents))})
    paid = await internal.pay_from_account(
        session,
        txid=charge.txid,
        payer_id=user_id,
        description=data.description or charge.description or "Pagamento Pix",
        now=now,
    )
    transfer = await TransferRepository(session).by_e2e(paid.e2e_id or "")
    assert transfer is not None, "the internal Pix's debit recorded its transfer"
    return transfer


async def _check_night(repo: TransferRepository, transfer: Transfer, limits: Limits, now: datetime) -> None:
    if limits.pix_night is None or not is_pix_night(now):
        return
    sent = await repo.pix_moved_since(transfer.user_id, night_window_start(now))
    if sent + transfer.amount_cents > to_cents(limits.pix_night):
        raise TransferLimitExceeded(
            f"O limite noturno de Pix (20h às 6h) de R$ {limits.pix_night} seria excedido",
            details={"limit": str(limits.pix_night), "usedTonight": str(from_cents(sent))},
        )


async def send_pix_transfer(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    data: PixRequest,
    limits: Limits,
    cache: BalanceCache,
    now: datetime | None = None,
) -> Transfer:
    """Pay a Pix now (COMPLETED inside the bank, PENDING through the PSP) or schedule it (SCHEDULED)."""
    now = now or utcnow()
    check_schedule(data.scheduled_for, now, limits)
    ours = await _our_charge(session, data)
    if ours is not None:
        return await _pay_our_charge(session, user_id, data, ours, now)
    order = resolve_order(data)
    await accounts.require_account(session, user_id, lock=True)
    repo = TransferRepository(session)
    await check_limits(repo, user_id, order.amount_cents, limits)
    transfer = Transfer(
        id=uuid7(),
        user_id=user_id,
        type="PIX",
        amount_cents=order.amount_cents,
        fee_cents=0,
        status=TransferStatus.SCHEDULED,
        description=data.description,
        pix_key=order.key.value,
        pix_key_type=order.key.type.value,
        created_at=now,
    )
    if data.scheduled_for is not None and data.scheduled_for > now:
        transfer.scheduled_for = data.scheduled_for
        await repo.add(transfer)
        await defer(
            session, EXECUTE_TASK, args={"transfer_id": str(transfer.id)}, schedule_at=data.scheduled_for
        )
        audit_transfer(session, "TRANSFER_SCHEDULED", transfer)
        await publish(session, "transfer.scheduled", event_data(transfer), user_ids=[user_id])
        count_transfer(session, transfer)
        return transfer
    await _check_night(repo, transfer, limits, now)
    await _move(session, transfer, now)
    await repo.add(transfer)
    await _announce(session, transfer, cache.invalidate_after_commit)
    return transfer


async def _move(session: AsyncSession, transfer: Transfer, now: datetime) -> None:
    """Move the money: settle inside the bank, or hold it and record the PSP send. Every refusal is raised
    before the transfer is changed, so a caller's savepoint rollback leaves it as it was."""
    recipient_id = await pix_keys.key_owner(session, transfer.pix_key or "")
    if recipient_id == transfer.user_id:
        raise SelfTransfer(details=[{"field": "pixKey", "message": "the key is the sender's own"}])
    lines = [ledger.Line.debit(accounts.ledger_code(transfer.user_id), transfer.amount_cents)]
    common: dict[str, Any] = {
        "reference": f"transfer:{transfer.id}",
        "reason": "PIX_TRANSFER",
        "description": transfer.description or "Transferência Pix",
        "entity_type": "transfer",
        "entity_id": str(transfer.id),
    }
    if recipient_id is not None:
        recipient = await accounts.find_account(session, recipient_id)
        if recipient is None or recipient.status != AccountStatus.ACTIVE:
            raise RecipientNotFound()
        lines.append(ledger.Line.credit(accounts.ledger_code(recipient_id), transfer.amount_cents))
        tx = await ledger.post(session, lines, **common)
        transfer.recipient_user_id = recipient_id
        transfer.ledger_transaction_id = tx.id
        transfer.e2e_id = new_e2e_id(now)
        transfer.status = TransferStatus.COMPLETED
        transfer.completed_at = now
        return
    lines.append(ledger.Line.credit(accounts.PIX_CLEARING, transfer.amount_cents))
    hold = await ledger.hold(session, lines, **common)
    await send_pix(
        session,
        purpose=PIX_OUT,
        entity_id=str(transfer.id),
        amount=from_cents(transfer.amount_cents),
        payee_key=transfer.pix_key or "",
        description=transfer.description,
    )
    transfer.hold_id = hold.id
    transfer.status = TransferStatus.PENDING


async def _announce(session: AsyncSession, transfer: Transfer, invalidate: Callable[..., None]) -> None:
    """Audit record, outbox events and metric of a transfer that just moved (or failed to)."""
    await session.flush()
    audit_transfer(session, f"TRANSFER_{transfer.status}", transfer)
    await publish(
        session, f"transfer.{transfer.status.lower()}", event_data(transfer), user_ids=[transfer.user_id]
    )
    touched = [transfer.user_id]
    if transfer.status == TransferStatus.COMPLETED:
        await spending_changed(session, transfer.user_id)
    if transfer.status == TransferStatus.COMPLETED and transfer.recipient_user_id is not None:
        touched.append(transfer.recipient_user_id)
        await publish(
            session,
            "transfer.received",
            {
                "transferId": str(transfer.id),
                "amount": str(from_cents(transfer.amount_cents)),
                "fromUserId": str(transfer.user_id),
            },
            user_ids=[transfer.recipient_user_id],
        )
    invalidate(session, *touched)
    count_transfer(session, transfer)


def _invalidate_outside_request(session: AsyncSession, *user_ids: uuid.UUID) -> None:
    invalidate_balances_after_commit(session, settings_of(session).redis_url, *user_ids)


async def execute_scheduled(
    session: AsyncSession, transfer_id: uuid.UUID, limits: Limits, now: datetime | None = None
) -> Transfer | None:
    """The job's body: move a SCHEDULED Pix now; a short balance, the night limit, a recipient gone or an
    inactive account fail it (FAILED with the reason, `transfer.failed`)."""
    repo = TransferRepository(session)
    transfer = await repo.get(transfer_id, lock=True)
    if transfer is None or transfer.status != TransferStatus.SCHEDULED:
        return transfer
    now = now or utcnow()
    try:
        async with session.begin_nested():
            await accounts.require_account(session, transfer.user_id, lock=True)
            await _check_night(repo, transfer, limits, now)
            await _move(session, transfer, now)
    except (
        InsufficientFunds,
        TransferLimitExceeded,
        RecipientNotFound,
        SelfTransfer,
        AccountNotFound,
        AccountNotActive,
    ) as refusal:
        await session.refresh(transfer)
        transfer.status = TransferStatus.FAILED
        transfer.failure_reason = refusal.message
    await _announce(session, transfer, _invalidate_outside_request)
    return transfer


async def _pix_out_done(session: AsyncSession, send: PixSend) -> None:
    """The PSP settled our Pix: post the hold, COMPLETED with the PSP's e2eId."""
    transfer = await TransferRepository(session).get(uuid.UUID(send.entity_id), lock=True)
    if transfer is None or transfer.status != TransferStatus.PENDING or transfer.hold_id is None:
        log.warning("bank.pix_out.unexpected_done", entity_id=send.entity_id)
        return
    await ledger.post_hold(session, transfer.hold_id, reference=f"transfer:{transfer.id}:settled")
    transfer.status = TransferStatus.COMPLETED
    transfer.completed_at = send.settled_at or utcnow()
    transfer.e2e_id = send.e2e_id
    await _announce(session, transfer, _invalidate_outside_request)


async def _pix_out_failed(session: AsyncSession, send: PixSend) -> None:
    """The PSP refused or gave up: void the hold (money back), FAILED with the PSP's reason."""
    transfer = await TransferRepository(session).get(uuid.UUID(send.entity_id), lock=True)
    if transfer is None or transfer.status != TransferStatus.PENDING or transfer.hold_id is None:
        log.warning("bank.pix_out.unexpected_failure", entity_id=send.entity_id)
        return
    await ledger.void_hold(session, transfer.hold_id)
    transfer.status = TransferStatus.FAILED
    transfer.failure_reason = send.error or "Pix recusado pela instituição do recebedor"
    await _announce(session, transfer, _invalidate_outside_request)


async def _pay_charge(session: AsyncSession, debit: InternalDebit) -> str:
    """A Laura charge paid from the customer's account (`laura.pix.internal`): a COMPLETED Pix to the key
    the charge is payable to, under the same account lock, limits and night rule as any Pix, booked D the
    customer / C the charge's receivable; answers the e2eId minted for it."""
    settings = settings_of(session)
    limits = Limits(
        per_transfer=settings.transfer_max_amount,
        daily=settings.transfer_daily_limit,
        pix_night=settings.pix_night_limit,
    )
    await accounts.require_account(session, debit.payer_id, lock=True)
    repo = TransferRepository(session)
    await check_limits(repo, debit.payer_id, debit.charge.amount_cents, limits)
    key = parse_pix_key(settings.psp_pix_key)
    transfer = Transfer(
        id=uuid7(),
        user_id=debit.payer_id,
        type="PIX",
        amount_cents=debit.charge.amount_cents,
        fee_cents=0,
        status=TransferStatus.COMPLETED,
        description=debit.description,
        pix_key=key.value,
        pix_key_type=key.type.value,
        e2e_id=new_e2e_id(debit.now),
        created_at=debit.now,
        completed_at=debit.now,
    )
    await _check_night(repo, transfer, limits, debit.now)
    tx = await ledger.post(
        session,
        [
            ledger.Line.debit(accounts.ledger_code(debit.payer_id), transfer.amount_cents),
            ledger.Line.credit(debit.credit_code, transfer.amount_cents),
        ],
        reference=debit.reference,
        reason="PIX_TRANSFER",
        description=debit.description,
        entity_type="transfer",
        entity_id=str(transfer.id),
    )
    transfer.ledger_transaction_id = tx.id
    await repo.add(transfer)
    await _announce(session, transfer, _invalidate_outside_request)
    assert transfer.e2e_id is not None
    return transfer.e2e_id


register_send_handler(PIX_OUT, _pix_out_done, _pix_out_failed)
register_account_debit(_pay_charge)
