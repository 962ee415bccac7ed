"""Pix deposits: issue a dynamic charge for the customer's account, and credit it when the Pix arrives.

The "bank.deposit" handler runs inside the transaction that records the received Pix (webhook or
reconciliation), which already counts each e2eId once; the ledger reference `deposit:<txid>` makes the
credit itself idempotent as well. Money comes from the Pix settlement asset account (1200).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import invalidate_balances_after_commit
from laura.core.events import publish
from laura.core.models import uuid7
from laura.core.money import from_cents
from laura.ledger import service as ledger
from laura.pix.models import PixCharge
from laura.pix.psp import EfiClient, ReceivedPix
from laura.pix.service import create_charge, register_pix_handler
from laura.settings import get_settings

PURPOSE = "bank.deposit"
EXPIRES_IN = 3600


async def create_deposit(
    session: AsyncSession, psp: EfiClient, *, user_id: uuid.UUID, amount: Decimal, pix_key: str
) -> PixCharge:
    """A one-hour dynamic charge of `amount` to the bank's key, credited to the caller when paid."""
    await accounts.require_account(session, user_id)
    charge = await create_charge(
        session,
        psp,
        purpose=PURPOSE,
        entity_id=str(uuid7()),
        owner_id=user_id,
        amount=amount,
        expires_in=EXPIRES_IN,
        description="Depósito na conta Laura",
        pix_key=pix_key,
    )
    audit.record(
        session,
        action="DEPOSIT_REQUESTED",
        resource_type="deposit",
        resource_id=charge.entity_id,
        new={"txid": charge.txid, "amountCents": charge.amount_cents},
        actor_id=user_id,
    )
    return charge


async def credit_deposit(session: AsyncSession, charge: PixCharge, pix: ReceivedPix) -> None:
    """The paid charge's money lands on the customer's account, once (ledger reference per txid)."""
    tx = await ledger.post(
        session,
        [
            ledger.Line.debit(accounts.PIX_CLEARING, charge.amount_cents),
            ledger.Line.credit(accounts.ledger_code(charge.owner_id), charge.amount_cents),
        ],
        reference=f"deposit:{charge.txid}",
        reason="PIX_DEPOSIT",
        description="Depósito via Pix",
        entity_type="deposit",
        entity_id=charge.entity_id,
        external_ref=pix.end_to_end_id,
    )
    if tx.replayed:
        return
    audit.record(
        session,
        action="DEPOSIT_RECEIVED",
        resource_type="deposit",
        resource_id=charge.entity_id,
        new={"txid": charge.txid, "e2eId": pix.end_to_end_id, "amountCents": charge.amount_cents},
        actor_id=charge.owner_id,
    )
    await publish(
        session,
        "deposit.received",
        {
            "depositId": charge.entity_id,
            "txid": charge.txid,
            "e2eId": pix.end_to_end_id,
            "amount": str(from_cents(charge.amount_cents)),
        },
        user_ids=[charge.owner_id],
    )
    invalidate_balances_after_commit(session, get_settings().redis_url, charge.owner_id)


register_pix_handler(PURPOSE, credit_deposit)
