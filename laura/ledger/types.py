"""The values the ledger API takes and returns. Amounts are integer cents; directions are "D" or "C"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from laura.ledger.errors import InvalidLines

Direction = Literal["D", "C"]
AccountRef = str | uuid.UUID
"""An account's code ("2101.<user id>") or id."""

_DIRECTIONS: dict[str, Direction] = {"D": "D", "DEBIT": "D", "C": "C", "CREDIT": "C"}


class AccountType(StrEnum):
    ASSET = "ASSET"
    LIABILITY = "LIABILITY"
    EQUITY = "EQUITY"
    INCOME = "INCOME"
    EXPENSE = "EXPENSE"

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow with debits; liabilities, equity and income with credits."""
        return self in (AccountType.ASSET, AccountType.EXPENSE)


@dataclass(frozen=True)
class Line:
    """One side of a transaction: debit or credit `cents` on an account (by code or id)."""

    account: AccountRef
    direction: Direction
    cents: int

    def __post_init__(self) -> None:
        direction = _DIRECTIONS.get(str(self.direction).upper())
        if direction is None:
            raise InvalidLines(f"Unknown direction {self.direction!r}: use D/C or debit/credit")
        if isinstance(self.cents, bool) or not isinstance(self.cents, int) or self.cents <= 0:
            raise InvalidLines("Every line needs a positive integer amount in cents")
        object.__setattr__(self, "direction", direction)

    @classmethod
    def debit(cls, account: AccountRef, cents: int) -> Line:
        return cls(account, "D", cents)

    @classmethod
    def credit(cls, account: AccountRef, cents: int) -> Line:
        return cls(account, "C", cents)


@dataclass(frozen=True)
class Balances:
    """The four stored totals of an account (hot accounts: summed over their shards)."""

    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0


@dataclass(frozen=True)
class Balance:
    """An account's balance on its normal side, in cents.

    `posted` is settled; `pending` is the net of open holds (negative when money is held going out);
    `available` is posted minus the holds going out (money held coming in is not available yet).
    """

    posted: int
    pending: int
    available: int

    @classmethod
    def of(cls, totals: Balances, account_type: AccountType) -> Balance:
        if account_type.debit_normal:
            posted = totals.debits_posted - totals.credits_posted
            return cls(
                posted, totals.debits_pending - totals.credits_pending, posted - totals.credits_pending
            )
        posted = totals.credits_posted - totals.debits_posted
        return cls(posted, totals.credits_pending - totals.debits_pending, posted - totals.debits_pending)


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    code: str
    name: str
    type: AccountType
    owner_id: uuid.UUID | None
    currency: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    hot: bool
    created_at: datetime
    totals: Balances = field(default_factory=Balances)

    @property
    def balance(self) -> Balance:
        return Balance.of(self.totals, self.type)


@dataclass(frozen=True)
class Transaction:
    """A ledger transaction; `replayed` is true when the reference existed and this is that first one."""

    id: uuid.UUID
    reference: str
    kind: Literal["posting", "hold", "hold_post", "reversal"]
    reason: str
    amount_cents: int
    description: str | None
    entity_type: str | None
    entity_id: str | None
    external_ref: str | None
    metadata: dict[str, Any]
    hold_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class Hold:
    transaction_id: uuid.UUID
    status: Literal["pending", "posted", "voided", "expired"]
    expires_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class StatementRow:
    """One entry of an account with the posted balance after it (a pending entry leaves it unchanged)."""

    entry_id: int
    transaction_id: uuid.UUID
    reference: str
    kind: str
    reason: str
    description: str | None
    entity_type: str | None
    entity_id: str | None
    external_ref: str | None
    direction: Direction
    amount_cents: int
    pending: bool
    hold_status: str | None
    balance_cents: int
    created_at: datetime


@dataclass(frozen=True)
class Statement:
    rows: list[StatementRow]
    next_cursor: str | None


@dataclass(frozen=True)
class TrialBalanceRow:
    account: Account
    debits_cents: int
    credits_cents: int


@dataclass(frozen=True)
class TrialBalance:
    rows: list[TrialBalanceRow]
    total_debits_cents: int
    total_credits_cents: int

    @property
    def balanced(self) -> bool:
        return self.total_debits_cents == self.total_credits_cents


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` checked, and one line per problem found (empty when the ledger is sound)."""

    transactions: int
    entries: int
    accounts: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems
