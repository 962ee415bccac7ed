"""Boletos: read and check a slip, pay it now (one ledger transaction to the boleto clearing account) or on
a future date (a job pays it then), once per slip in the whole bank.

Payment limit: a registered slip's own `payment_limit`; otherwise a bank slip is payable up to its due date
plus 59 days (the usual "após o vencimento" window), and a utility slip, which carries no due date, always.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import BalanceCache, invalidate_balances_after_commit
from laura.bank.bills.barcode import Bill, check_amount, parse_bill
from laura.bank.bills.errors import AmountRequired, BillAlreadyPaid, BillOverdue, BillPaymentNotFound
from laura.bank.bills.models import BillPayment, BillPaymentStatus, RegisteredBill
from laura.bank.bills.repository import BillRepository
from laura.bank.bills.schemas import PayRequest, ValidateOut
from laura.bank.metrics import count_bill_payment
from laura.bank.spending.changes import spending_changed
from laura.bank.transfers.calendar import BRASILIA
from laura.core.errors import ValidationFailed
from laura.core.events import publish
from laura.core.jobs import defer
from laura.core.models import utcnow, uuid7
from laura.core.money import from_cents, to_cents
from laura.ledger import service as ledger
from laura.ledger.errors import InsufficientFunds

BANK_SLIP_GRACE = timedelta(days=59)
SCHEDULED_PAYMENT_TIME = time(8, 0)
PAY_TASK = "bank.pay_scheduled_bill"


def _today() -> date:
    return utcnow().astimezone(BRASILIA).date()


def _payment_limit(bill: Bill, registered: RegisteredBill | None) -> date | None:
    if registered is not None and registered.payment_limit is not None:
        return registered.payment_limit
    if bill.type == "BANK" and bill.due_date is not None:
        return bill.due_date + BANK_SLIP_GRACE
    return None


def _recipient(bill: Bill, registered: RegisteredBill | None) -> str | None:
    if registered is not None:
        return registered.recipient
    return bill.bank_name if bill.type == "BANK" else bill.segment_name


async def validate(session: AsyncSession, barcode: str, amount: Decimal | None) -> ValidateOut:
    """Decode the slip (400 INVALID_BARCODE), compare the amount (422 AMOUNT_MISMATCH), name the recipient."""
    bill = parse_bill(barcode)
    check_amount(bill, amount)
    registered = await BillRepository(session).registered(bill.barcode)
    return ValidateOut(
        valid=True,
        barcode=bill.barcode,
        digitable_line=bill.digitable_line,
        type=bill.type,
        bank=bill.bank_code,
        bank_name=bill.bank_name,
        amount=bill.amount,
        due_date=bill.due_date,
        payment_limit=_payment_limit(bill, registered),
        recipient=_recipient(bill, registered),
    )


async def pay(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    data: PayRequest,
    cache: BalanceCache,
    schedule_max_days: int,
) -> BillPayment:
    """Pay now (COMPLETED) or schedule for `paymentDate` (SCHEDULED, at most `schedule_max_days` ahead); a
    slip is paid once in the bank."""
    bill = parse_bill(data.barcode)
    check_amount(bill, data.amount)
    if bill.amount is None and data.amount is None:
        raise AmountRequired()
    today = _today()
    payment_date = data.payment_date or today
    if payment_date < today:
        raise ValidationFailed(
            "paymentDate cannot be in the past", details=[{"field": "paymentDate", "message": "in the past"}]
        )
    if payment_date > today + timedelta(days=schedule_max_days):
        message = f"at most {schedule_max_days} days ahead"
        raise ValidationFailed(
            f"paymentDate is {message}", details=[{"field": "paymentDate", "message": message}]
        )
    repo = BillRepository(session)
    registered = await repo.registered(bill.barcode)
    limit = _payment_limit(bill, registered)
    if limit is not None and payment_date > limit:
        raise BillOverdue(details={"paymentLimit": limit.isoformat()})
    await accounts.require_account(session, user_id, lock=True)
    if await repo.barcode_taken(bill.barcode):
        raise BillAlreadyPaid()
    scheduled = payment_date > today
    payment = BillPayment(
        id=uuid7(),
        user_id=user_id,
        barcode=bill.barcode,
        digitable_line=bill.digitable_line,
        type=bill.type,
        bank_code=bill.bank_code,
        recipient=_recipient(bill, registered),
        amount_cents=to_cents(data.amount),
        due_date=bill.due_date,
        payment_date=payment_date,
        status=BillPaymentStatus.SCHEDULED if scheduled else BillPaymentStatus.COMPLETED,
        receipt=f"REC{secrets.randbelow(10**12):012d}",
        created_at=utcnow(),
    )
    if not await repo.add_payment(payment):
        raise BillAlreadyPaid()
    if scheduled:
        run_at = datetime.combine(payment_date, SCHEDULED_PAYMENT_TIME, tzinfo=BRASILIA).astimezone(UTC)
        await defer(session, PAY_TASK, args={"payment_id": str(payment.id)}, schedule_at=run_at)
    else:
        await _settle(session, payment)
    _audit(session, payment)
    await publish(session, f"bill.{payment.status.lower()}", _event(payment), user_ids=[user_id])
    cache.invalidate_after_commit(session, user_id)
    count_bill_payment(session, payment.status)
    return payment


async def _settle(session: AsyncSession, payment: BillPayment) -> None:
    cents = payment.amount_cents
    tx = await ledger.post(
        session,
        [
            ledger.Line.debit(accounts.ledger_code(payment.user_id), cents),
            ledger.Line.credit(accounts.BOLETO_CLEARING, cents),
        ],
        reference=f"bill:{payment.id}",
        reason="BILL_PAYMENT",
        description=f"Pagamento de boleto {payment.recipient or ''}".strip(),
        entity_type="bill_payment",
        entity_id=str(payment.id),
    )
    payment.ledger_transaction_id = tx.id
    payment.status = BillPaymentStatus.COMPLETED
    payment.paid_at = utcnow()
    await session.flush()
    await spending_changed(session, payment.user_id)


async def pay_scheduled(
    session: AsyncSession, payment_id: uuid.UUID, *, redis_url: str | None
) -> BillPayment | None:
    """The job's body: pay a SCHEDULED slip; a short balance fails it (FAILED, reason, customer notified).
    The payer's cached balance (Redis at `redis_url`, if any) is dropped once the job commits."""
    repo = BillRepository(session)
    payment = await repo.get(payment_id, lock=True)
    if payment is None or payment.status != BillPaymentStatus.SCHEDULED:
        return payment
    try:
        async with session.begin_nested():
            await _settle(session, payment)
    except InsufficientFunds:
        payment.status = BillPaymentStatus.FAILED
        payment.failure_reason = "Saldo insuficiente na data do pagamento"
        await session.flush()
    _audit(session, payment)
    await publish(session, f"bill.{payment.status.lower()}", _event(payment), user_ids=[payment.user_id])
    invalidate_balances_after_commit(session, redis_url, payment.user_id)
    count_bill_payment(session, payment.status)
    return payment


def _audit(session: AsyncSession, payment: BillPayment) -> None:
    audit.record(
        session,
        action=f"BILL_PAYMENT_{payment.status}",
        resource_type="bill_payment",
        resource_id=str(payment.id),
        new={"status": payment.status, "amountCents": payment.amount_cents, "barcode": payment.barcode},
        actor_id=payment.user_id,
    )


def _event(payment: BillPayment) -> dict:
    return {
        "paymentId": str(payment.id),
        "status": payment.status,
        "amount": str(from_cents(payment.amount_cents)),
        "receipt": payment.receipt,
        "failureReason": payment.failure_reason,
    }


async def get_payment(session: AsyncSession, user_id: uuid.UUID, payment_id: uuid.UUID) -> BillPayment:
    payment = await BillRepository(session).get(payment_id, user_id=user_id)
    if payment is None:
        raise BillPaymentNotFound()
    return payment


async def list_payments(
    session: AsyncSession, user_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[BillPayment], int]:
    return await BillRepository(session).page(user_id, offset=offset, limit=limit)


async def register_bill(session: AsyncSession, bill: RegisteredBill) -> None:
    """Record a slip the bank knows (demo seed), so validation shows its recipient and limit."""
    await BillRepository(session).add_registered(bill)
