"""Ledger rows on the wire (admin routes): amounts in reais as Decimal, from the ledger's integer cents."""

from __future__ import annotations

import uuid

from laura.core.money import Money, from_cents
from laura.core.schemas import ApiModel, UtcDatetime
from laura.ledger.types import Account, StatementRow, TrialBalance


class AccountOut(ApiModel):
    id: uuid.UUID
    code: str
    name: str
    type: str
    owner_id: uuid.UUID | None
    currency: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    hot: bool
    debits_pending: Money
    debits_posted: Money
    credits_pending: Money
    credits_posted: Money
    balance: Money
    pending: Money
    available: Money
    created_at: UtcDatetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        totals, balance = account.totals, account.balance
        return cls(
            id=account.id,
            code=account.code,
            name=account.name,
            type=account.type.value,
            owner_id=account.owner_id,
            currency=account.currency,
            debits_must_not_exceed_credits=account.debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=account.credits_must_not_exceed_debits,
            hot=account.hot,
            debits_pending=from_cents(totals.debits_pending),
            debits_posted=from_cents(totals.debits_posted),
            credits_pending=from_cents(totals.credits_pending),
            credits_posted=from_cents(totals.credits_posted),
            balance=from_cents(balance.posted),
            pending=from_cents(balance.pending),
            available=from_cents(balance.available),
            created_at=account.created_at,
        )


class StatementRowOut(ApiModel):
    entry_id: int
    transaction_id: uuid.UUID
    reference: str
    kind: str
    reason: str
    description: str | None
    entity_type: str | None
    entity_id: str | None
    external_ref: str | None
    direction: str
    amount: Money
    pending: bool
    hold_status: str | None
    balance: Money
    created_at: UtcDatetime

    @classmethod
    def of(cls, row: StatementRow) -> StatementRowOut:
        return cls(
            entry_id=row.entry_id,
            transaction_id=row.transaction_id,
            reference=row.reference,
            kind=row.kind,
            reason=row.reason,
            description=row.description,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            external_ref=row.external_ref,
            direction=row.direction,
            amount=from_cents(row.amount_cents),
            pending=row.pending,
            hold_status=row.hold_status,
            balance=from_cents(row.balance_cents),
            created_at=row.created_at,
        )


class TrialBalanceLineOut(ApiModel):
    code: str
    name: str
    type: str
    debit: Money
    credit: Money


class TrialBalanceOut(ApiModel):
    accounts: list[TrialBalanceLineOut]
    total_debits: Money
    total_credits: Money
    balanced: bool

    @classmethod
    def of(cls, trial: TrialBalance) -> TrialBalanceOut:
        return cls(
            accounts=[
                TrialBalanceLineOut(
                    code=row.account.code,
                    name=row.account.name,
                    type=row.account.type.value,
                    debit=from_cents(row.debits_cents),
                    credit=from_cents(row.credits_cents),
                )
                for row in trial.rows
            ],
            total_debits=from_cents(trial.total_debits_cents),
            total_credits=from_cents(trial.total_credits_cents),
            balanced=trial.balanced,
        )
