"""Pix deposits: issue a dynamic charge for the customer's account, and credit it when the Pix arrives.

The credit is the "bank.deposit" effect, `bank_deposit_credit` (sql/deposit_credit.sql): it runs in the statement
that records the received Pix (webhook or reconciliation), which already counts each e2eId once, and the
ledger reference `deposit:<txid>` makes the credit itself idempotent as well. Money comes from the Pix
settlement asset account (1200) to the customer's (2101.<user id>); the audit row `DEPOSIT_RECEIVED` and the
event `deposit.received` are written with it. After the commit the customer's cached balance is dropped.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import drop_balances
from laura.core.models import uuid7
from laura.pix.internal import register_receivable
from laura.pix.models import PaidCharge, PixCharge
from laura.pix.psp import EfiClient
from laura.pix.service import create_charge, register_paid_hook
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


async def _drop_cached_balance(charge: PaidCharge) -> None:
    await drop_balances(get_settings().redis_url, charge.owner_id)


register_paid_hook(PURPOSE, _drop_cached_balance)
register_receivable(PURPOSE, accounts.PIX_CLEARING)  # bank_deposit_credit books D 1200 / C the owner
