"""The ledger's refusals, and the SQLSTATEs of the ledger functions they come from."""

from __future__ import annotations

from laura.core.errors import AppError
from laura.ledger.outcomes import LedgerSqlState


class InsufficientFunds(AppError):
    """A balance-limit flag would be broken: e.g. a customer account would go below zero."""

    error = "INSUFFICIENT_BALANCE"
    status = 402
    code = "LED_001"
    message = "Saldo insuficiente"


class UnbalancedTransaction(AppError):
    error = "UNBALANCED_TRANSACTION"
    status = 422
    code = "LED_002"
    message = "The sum of debits differs from the sum of credits"


class AccountNotFound(AppError):
    error = "ACCOUNT_NOT_FOUND"
    status = 404
    code = "LED_003"
    message = "Ledger account not found"


class ReferenceConflict(AppError):
    """The idempotency reference was already used for a transaction with other lines."""

    error = "REFERENCE_CONFLICT"
    status = 409
    code = "LED_004"
    message = "This reference was already used for a different transaction"


class HoldNotPending(AppError):
    error = "HOLD_NOT_PENDING"
    status = 409
    code = "LED_005"
    message = "The hold is no longer pending"


class TransactionNotFound(AppError):
    error = "TRANSACTION_NOT_FOUND"
    status = 404
    code = "LED_006"
    message = "Ledger transaction not found"


class AlreadyReversed(AppError):
    error = "ALREADY_REVERSED"
    status = 409
    code = "LED_007"
    message = "The transaction was already reversed"


class InvalidLines(AppError):
    """Fewer than two lines, a non-positive amount, an unknown direction, or a partial post it cannot do."""

    error = "INVALID_LEDGER_LINES"
    status = 422
    code = "LED_008"
    message = "Invalid ledger lines"


class AccountConflict(AppError):
    """`open_account` with a code that exists with another type, owner or flags."""

    error = "ACCOUNT_CONFLICT"
    status = 409
    code = "LED_009"
    message = "A ledger account with this code exists with different attributes"


BY_SQLSTATE: dict[str, type[AppError]] = {
    LedgerSqlState.INSUFFICIENT_FUNDS: InsufficientFunds,
    LedgerSqlState.UNBALANCED: UnbalancedTransaction,
    LedgerSqlState.ACCOUNT_NOT_FOUND: AccountNotFound,
    LedgerSqlState.REFERENCE_REUSED: ReferenceConflict,
    LedgerSqlState.HOLD_NOT_PENDING: HoldNotPending,
    LedgerSqlState.TRANSACTION_NOT_FOUND: TransactionNotFound,
    LedgerSqlState.ALREADY_REVERSED: AlreadyReversed,
    LedgerSqlState.INVALID_LINES: InvalidLines,
}
"""The ledger functions raise these SQLSTATEs (sql/*.sql); the repository turns them into errors."""
