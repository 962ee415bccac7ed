"""A charge of ours paid from a Laura bank account: an internal Pix, settled at once without the PSP.

The money never leaves the platform, so nothing is asked of the PSP: the payer's account is debited towards
the account the charge's effect books from (for a ride, PIX_A_RECEBER), and the Pix is then applied through
the one path every received Pix takes (`intake.apply_received_pix`: recorded once in `financial_events`, the
charge PAID, the purpose's SQL effect), all in the caller's transaction. So a charge paid this way is booked
by the same split code as one paid at the PSP, and the payer's debit commits with it or not at all. The
charge is then withdrawn at the PSP by a job deferred in the same transaction (an HTTP call never runs
inside one), so its QR Code cannot be paid a second time; a Pix already on its way still reaches the intake
as one into a charge no longer ACTIVE (its purpose's unapplied effect: for a ride, a refund owed).

Who holds accounts is the bank's business, above this module: it registers the debit
(`register_account_debit`) and mints the e2eId under its ISPB, as for its other internal Pix. Each purpose
names the account its effect books from (`register_receivable`); a purpose that names none cannot be paid
this way. A dynamic BR Code's location finds the charge (`charge_at`), so the bank's Pix by QR Code pays it
the same way as a feature's own route. The charge's row lock, taken first, makes two payments of one charge
serialize: the second finds it PAID (409).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.jobs import defer
from laura.core.money import from_cents
from laura.pix.errors import ChargeNotActive, ChargeNotFound
from laura.pix.intake import apply_received_pix
from laura.pix.models import PixCharge, PixChargeStatus
from laura.pix.outcomes import ReceivedPixOutcome
from laura.pix.psp import ReceivedPix
from laura.pix.repository import PixRepository


@dataclass(frozen=True, slots=True)
class InternalDebit:
    """What the payer's bank must book before the Pix is applied: D the payer's account / C `credit_code`."""

    payer_id: uuid.UUID
    charge: PixCharge
    credit_code: str
    reference: str
    """Unique per charge (`pix-internal:<txid>`): a charge is paid from an account at most once."""
    description: str
    now: datetime


AccountDebit = Callable[[AsyncSession, InternalDebit], Awaitable[str]]
"""Debit the payer's account (raising the bank's refusal: no account, blocked, insufficient balance,
limits) and answer the e2eId it minted for this Pix."""

_debits: list[AccountDebit] = []
_receivables: dict[str, str] = {}

WITHDRAW_TASK = "pix.withdraw_charge"


def register_account_debit(debit: AccountDebit) -> AccountDebit:
    """The bank's debit of a customer's account for an internal Pix; one per process."""
    if _debits and _debits[0] is not debit:
        raise ValueError("a different account debit is already registered")
    if not _debits:
        _debits.append(debit)
    return debit


def register_receivable(purpose: str, code: str) -> None:
    """The ledger account a purpose's effect books a received Pix from (a ride's: PIX_A_RECEBER 1300, a
    deposit's: the Pix settlement account 1200): the one an internal Pix credits, so the two cancel out."""
    if _receivables.get(purpose, code) != code:
        raise ValueError(f"purpose {purpose!r} already settles into {_receivables[purpose]}")
    _receivables[purpose] = code


async def charge_at(session: AsyncSession, location: str) -> PixCharge | None:
    """Our charge behind a dynamic BR Code's location (with or without its https:// scheme), if it is ours."""
    return await PixRepository(session).charge_at_location(location)


async def pay_from_account(
    session: AsyncSession,
    *,
    txid: str,
    payer_id: uuid.UUID,
    description: str,
    now: datetime,
) -> PixCharge:
    """Pay the ACTIVE, unexpired charge `txid` from `payer_id`'s account, in the caller's transaction.

    404 for an unknown charge, 409 `PIX_CHARGE_NOT_ACTIVE` for one paid, cancelled or expired (or of a
    purpose that names no receivable); the bank's refusals pass through with nothing written. Answers the
    charge, now PAID."""
    if not _debits:
        raise LookupError("no account debit registered for internal Pix (laura.bank)")
    repository = PixRepository(session)
    charge = await repository.charge_for_update(txid)
    if charge is None:
        raise ChargeNotFound()
    credit_code = _receivables.get(charge.purpose)
    if charge.status != PixChargeStatus.ACTIVE or charge.expires_at <= now or credit_code is None:
        raise ChargeNotActive(details={"status": charge.status})
    e2e_id = await _debits[0](
        session,
        InternalDebit(
            payer_id=payer_id,
            charge=charge,
            credit_code=credit_code,
            reference=f"pix-internal:{txid}",
            description=description,
            now=now,
        ),
    )
    pix = ReceivedPix(end_to_end_id=e2e_id, txid=txid, amount=from_cents(charge.amount_cents), paid_at=now)
    outcome = await apply_received_pix(session, pix, source="internal")
    assert outcome == ReceivedPixOutcome.APPLIED, f"an ACTIVE charge under its lock is applied, not {outcome}"
    await defer(session, WITHDRAW_TASK, args={"txid": txid})
    paid = await repository.charge_for_update(txid)
    assert paid is not None, "the charge was just locked"
    return paid
