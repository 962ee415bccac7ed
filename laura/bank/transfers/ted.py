"""TED: to an account at another bank, settled through the STR on banking days inside the TED window.

The amount plus the fee (`LAURA_TED_FEE`) is held in ONE ledger transaction (customer -> TED clearing and
fee income), so until it settles a PENDING TED can still be cancelled with everything given back. At the
estimated delivery (`calendar.ted_estimated_delivery`) the `bank.settle_ted` job posts the hold: COMPLETED.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import BalanceCache, invalidate_balances_after_commit
from laura.bank.metrics import count_transfer
from laura.bank.participants import find_by_compe
from laura.bank.spending.changes import spending_changed
from laura.bank.transfers.calendar import ted_estimated_delivery
from laura.bank.transfers.errors import BankNotFound
from laura.bank.transfers.models import Transfer, TransferStatus
from laura.bank.transfers.repository import TransferRepository
from laura.bank.transfers.schemas import TedRequest
from laura.bank.transfers.service import Limits, audit_transfer, check_limits, event_data
from laura.core.db import settings_of
from laura.core.events import publish
from laura.core.jobs import defer
from laura.core.models import utcnow, uuid7
from laura.core.money import to_cents
from laura.ledger import service as ledger

SETTLE_TASK = "bank.settle_ted"


async def send_ted(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    data: TedRequest,
    limits: Limits,
    fee: Decimal,
    cache: BalanceCache,
    now: datetime | None = None,
) -> Transfer:
    """Hold amount + fee and schedule the settlement at the estimated delivery (PENDING)."""
    participant = find_by_compe(data.bank)
    if participant is None:
        raise BankNotFound(details={"bank": data.bank})
    now = now or utcnow()
    await accounts.require_account(session, user_id, lock=True)
    repo = TransferRepository(session)
    cents, fee_cents = to_cents(data.amount), to_cents(fee)
    await check_limits(repo, user_id, cents, limits)
    transfer = Transfer(
        id=uuid7(),
        user_id=user_id,
        type="TED",
        amount_cents=cents,
        fee_cents=fee_cents,
        status=TransferStatus.PENDING,
        description=data.description,
        recipient_name=data.recipient_name,
        recipient_document=data.recipient_document,
        bank_code=participant.compe,
        agency=data.agency,
        account=data.account.upper(),
        account_type=data.account_type,
        estimated_delivery=ted_estimated_delivery(now),
        created_at=now,
    )
    lines = [
        ledger.Line.debit(accounts.ledger_code(user_id), cents + fee_cents),
        ledger.Line.credit(accounts.TED_CLEARING, cents),
    ]
    if fee_cents:
        lines.append(ledger.Line.credit(accounts.FEES, fee_cents))
    hold = await ledger.hold(
        session,
        lines,
        reference=f"transfer:{transfer.id}",
        reason="TED_TRANSFER",
        description=f"TED para {participant.name}"[:200],
        entity_type="transfer",
        entity_id=str(transfer.id),
    )
    transfer.hold_id = hold.id
    await repo.add(transfer)
    await defer(
        session, SETTLE_TASK, args={"transfer_id": str(transfer.id)}, schedule_at=transfer.estimated_delivery
    )
    audit_transfer(session, "TRANSFER_PENDING", transfer)
    await publish(session, "transfer.pending", event_data(transfer), user_ids=[user_id])
    cache.invalidate_after_commit(session, user_id)
    count_transfer(session, transfer)
    return transfer


async def settle_ted(
    session: AsyncSession, transfer_id: uuid.UUID, now: datetime | None = None
) -> Transfer | None:
    """The job's body: post the held amount and fee (COMPLETED); a cancelled or settled TED is left alone."""
    transfer = await TransferRepository(session).get(transfer_id, lock=True)
    if (
        transfer is None
        or transfer.type != "TED"
        or transfer.status != TransferStatus.PENDING
        or transfer.hold_id is None
    ):
        return transfer
    tx = await ledger.post_hold(session, transfer.hold_id, reference=f"transfer:{transfer.id}:settled")
    transfer.ledger_transaction_id = tx.id
    transfer.status = TransferStatus.COMPLETED
    transfer.completed_at = now or utcnow()
    await session.flush()
    await spending_changed(session, transfer.user_id)
    audit_transfer(session, "TRANSFER_COMPLETED", transfer, {"status": TransferStatus.PENDING})
    await publish(session, "transfer.completed", event_data(transfer), user_ids=[transfer.user_id])
    invalidate_balances_after_commit(session, settings_of(session).redis_url, transfer.user_id)
    count_transfer(session, transfer)
    return transfer
