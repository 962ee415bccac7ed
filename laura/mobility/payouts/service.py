"""Driver payouts: asked for over HTTP, held on the ledger at once, sent by Pix from a job.

- `request_payout` (POST /payouts) runs in one transaction under the driver's row lock, which serializes
  one driver's payouts: suspension, minimum, available balance, daily and weekly limits are checked, the
  payout row is inserted PENDING, its ledger hold placed (D 2100.<driver> / C 1100 BANCO_CORRENTE, reason
  'PAYOUT', reference 'payout:<id>') and `process_payout` deferred, all or nothing. A Pix key changed less
  than `payout_pix_key_change_delay_hours` ago delays the job until then and flags the driver for review.
- `process_payout` (the job) moves it PROCESSING and records the Pix send (`laura.pix.service.send_pix`)
  in one transaction, so a payout is sent at most once: a job run again finds it PROCESSING and leaves it
  to the Pix machinery (the submit job and reconciliation, which reuse the send's idEnvio at the PSP).
- The PSP's outcome reaches the 'mobility.payout' send handlers: done posts the hold in full (reference
  'payout:<id>:settled') and completes the payout; failed voids the hold (the money is available again).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.core.events import publish
from laura.core.jobs import defer
from laura.core.models import utcnow, uuid7
from laura.core.money import from_cents
from laura.identity.service import Principal
from laura.ledger import service as ledger
from laura.mobility.fraud import service as fraud
from laura.mobility.fraud.models import Rule
from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.payments.service import driver_payable_code
from laura.mobility.payouts.balance import driver_balance
from laura.mobility.payouts.errors import (
    InsufficientBalance,
    PayoutBelowMinimum,
    PayoutLimitExceeded,
    PayoutNotFound,
)
from laura.mobility.payouts.metrics import count_created, count_settled
from laura.mobility.payouts.models import COUNTED_IN_LIMITS, Payout, PayoutStatus, can_move
from laura.mobility.payouts.periods import periods
from laura.mobility.payouts.policy import PayoutPolicy
from laura.mobility.payouts.repository import PayoutRepository
from laura.mobility.people.errors import DriverNotFound
from laura.mobility.people.models import Driver
from laura.mobility.people.repository import PeopleRepository
from laura.mobility.people.service import driver_of
from laura.pix.models import PixSend
from laura.pix.service import register_send_handler, send_pix

log = structlog.get_logger(__name__)

PURPOSE = "mobility.payout"
PROCESS_TASK = "mobility.payouts.process_payout"
BANK_ACCOUNT = "1100"
"""BANCO_CORRENTE: the platform's bank account, which the Pix leaves from."""


async def visible_driver(session: AsyncSession, user: Principal, ref: str) -> Driver:
    """Driver `ref` ('me' or an id) when it is the caller's own, or any for an admin; 404 otherwise."""
    people = PeopleRepository(session)
    if ref == "me":
        found = await people.driver_by_user(user.id)
    else:
        try:
            found = await people.driver(uuid.UUID(ref))
        except ValueError:
            found = None
    if found is None or (user.role != "admin" and found.user_id != user.id):
        raise DriverNotFound()
    return found


def _limit(used: int, amount: int, limit: int, period: str) -> None:
    if used + amount > limit:
        raise PayoutLimitExceeded(
            f"The payout would exceed your {period} payout limit of R$ {from_cents(limit)}",
            details={"period": period, "limit": str(from_cents(limit)), "used": str(from_cents(used))},
        )


async def _check(
    session: AsyncSession, driver: Driver, amount_cents: int, policy: PayoutPolicy, now: datetime
) -> None:
    """Every refusal of a payout, in the order the driver can act on them."""
    await fraud.ensure_not_suspended(session, driver.user_id)
    if amount_cents < policy.min_cents:
        raise PayoutBelowMinimum(
            f"The minimum payout is R$ {from_cents(policy.min_cents)}",
            details={"minimum": str(from_cents(policy.min_cents))},
        )
    balance = await driver_balance(session, driver.id, policy=policy, now=now)
    if balance.available < amount_cents:
        raise InsufficientBalance(details={"available": str(from_cents(balance.available))})
    repo = PayoutRepository(session)
    starts = periods(now, policy.timezone)
    _limit(
        await repo.sum_since(driver.id, starts.day, COUNTED_IN_LIMITS),
        amount_cents,
        policy.daily_limit_cents,
        "daily",
    )
    _limit(
        await repo.sum_since(driver.id, starts.week, COUNTED_IN_LIMITS),
        amount_cents,
        policy.weekly_limit_cents,
        "weekly",
    )


async def request_payout(
    session: AsyncSession, *, user: Principal, amount_cents: int, policy: PayoutPolicy, now: datetime
) -> Payout:
    """The caller's payout of `amount_cents`, PENDING with its hold and its job (see the module's doc)."""
    mine = await driver_of(session, user)
    driver = await PeopleRepository(session).driver(mine.id, for_update=True)
    assert driver is not None, "the caller's driver row exists"
    await _check(session, driver, amount_cents, policy, now)
    payout = Payout(
        id=uuid7(),
        driver_id=driver.id,
        amount_cents=amount_cents,
        status=PayoutStatus.PENDING.value,
        pix_key=driver.pix_key,
        pix_key_type=driver.pix_key_type,
        created_at=now,
    )
    changed = driver.pix_key_changed_at
    if changed is not None and now < changed + policy.pix_key_change_delay:
        payout.not_before = changed + policy.pix_key_change_delay
    hold = await ledger.hold(
        session,
        [
            ledger.Line.debit(driver_payable_code(driver.id), amount_cents),
            ledger.Line.credit(BANK_ACCOUNT, amount_cents),
        ],
        reference=f"payout:{payout.id}",
        reason="PAYOUT",
        description="Repasse ao motorista",
        entity_type="payout",
        entity_id=str(payout.id),
    )
    payout.hold_id = hold.id
    await PayoutRepository(session).add(payout)
    await defer(session, PROCESS_TASK, args={"payout_id": str(payout.id)}, schedule_at=payout.not_before)
    if payout.not_before is not None:
        await fraud.raise_flag(
            session,
            FraudPolicy(timezone=policy.timezone),
            user_id=driver.user_id,
            rule=Rule.PAYOUT_PIX_KEY_CHANGE,
            now=now,
            details={"payoutId": str(payout.id), "pixKeyChangedAt": changed.isoformat() if changed else None},
        )
    await _announce(session, payout, driver.user_id)
    count_created(session, amount_cents)
    return payout


async def process_payout(session: AsyncSession, *, payout_id: uuid.UUID, now: datetime) -> str:
    """The job's body: send a PENDING payout's Pix (anything else is left alone). One run early (before
    `not_before`) defers itself to then."""
    payout = await PayoutRepository(session).get(payout_id, for_update=True)
    if payout is None:
        return "missing"
    if payout.status != PayoutStatus.PENDING:
        return "skipped"
    if payout.not_before is not None and now < payout.not_before:
        await defer(session, PROCESS_TASK, args={"payout_id": str(payout.id)}, schedule_at=payout.not_before)
        return "deferred"
    send = await send_pix(
        session,
        purpose=PURPOSE,
        entity_id=str(payout.id),
        amount=payout.amount,
        payee_key=payout.pix_key,
        description="Repasse Laura",
    )
    payout.status = PayoutStatus.PROCESSING.value
    payout.processing_at = now
    payout.id_envio = send.id_envio
    await session.flush()
    return "sent"


async def _settled_payout(session: AsyncSession, send: PixSend, new: PayoutStatus) -> Payout | None:
    payout = await PayoutRepository(session).get(uuid.UUID(send.entity_id), for_update=True)
    if payout is None or not can_move(payout.status, new) or payout.id_envio != send.id_envio:
        log.warning("mobility.payout.unexpected_outcome", entity_id=send.entity_id, outcome=new)
        return None
    return payout


async def _payout_sent(session: AsyncSession, send: PixSend) -> None:
    """The PSP settled the Pix: the hold is posted in full, the payout COMPLETED with the e2eId."""
    payout = await _settled_payout(session, send, PayoutStatus.COMPLETED)
    if payout is None:
        return
    await ledger.post_hold(session, payout.hold_id, reference=f"payout:{payout.id}:settled")
    payout.status = PayoutStatus.COMPLETED.value
    payout.completed_at = send.settled_at or utcnow()
    payout.e2e_id = send.e2e_id
    await _announce(session, payout)
    count_settled(session, completed=True, amount_cents=payout.amount_cents)


async def _payout_failed(session: AsyncSession, send: PixSend) -> None:
    """The PSP refused or gave up: the hold is voided (the money is available again), FAILED."""
    payout = await _settled_payout(session, send, PayoutStatus.FAILED)
    if payout is None:
        return
    await ledger.void_hold(session, payout.hold_id)
    payout.status = PayoutStatus.FAILED.value
    payout.failed_at = send.settled_at or utcnow()
    payout.failure_reason = send.error or "Pix recusado pela instituição do recebedor"
    await _announce(session, payout)
    count_settled(session, completed=False, amount_cents=payout.amount_cents)


async def _announce(session: AsyncSession, payout: Payout, user_id: uuid.UUID | None = None) -> None:
    """The audit row and the driver's event (`payout.pending|completed|failed`) of the payout's new state."""
    await session.flush()
    if user_id is None:
        user_id = (await PeopleRepository(session).user_ids(driver_ids=[payout.driver_id]))[payout.driver_id]
    data = {
        "payoutId": str(payout.id),
        "driverId": str(payout.driver_id),
        "amount": str(payout.amount),
        "status": payout.status,
        "notBefore": payout.not_before.isoformat() if payout.not_before else None,
        "e2eId": payout.e2e_id,
        "failureReason": payout.failure_reason,
    }
    audit.record(
        session,
        action=f"PAYOUT_{payout.status}",
        resource_type="payout",
        resource_id=str(payout.id),
        new=data,
    )
    await publish(session, f"payout.{payout.status.lower()}", data, user_ids=[user_id])


async def list_payouts(
    session: AsyncSession,
    *,
    user: Principal,
    driver_id: uuid.UUID | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[Payout], int]:
    """The caller's payouts (an admin: everyone's, or one driver's with `driver_id`), newest first."""
    if user.role != "admin":
        mine = await driver_of(session, user)
        if driver_id is not None and driver_id != mine.id:
            raise DriverNotFound()
        driver_id = mine.id
    return await PayoutRepository(session).page(
        driver_id=driver_id, status=status, since=since, until=until, offset=offset, limit=limit
    )


async def get_payout(session: AsyncSession, *, user: Principal, payout_id: uuid.UUID) -> Payout:
    """A payout of the caller's (any, for an admin); another driver's is 404."""
    payout = await PayoutRepository(session).get(payout_id)
    if payout is None:
        raise PayoutNotFound()
    if user.role != "admin":
        driver = await PeopleRepository(session).driver_by_user(user.id)
        if driver is None or driver.id != payout.driver_id:
            raise PayoutNotFound()
    return payout


register_send_handler(PURPOSE, _payout_sent, _payout_failed)
