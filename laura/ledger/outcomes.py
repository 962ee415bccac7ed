"""The SQLSTATEs the ledger's SQL functions (`sql/*.sql`) raise for their refusals: the one vocabulary of the
functions, `laura.ledger.errors` (which maps each to its AppError) and their tests."""

from __future__ import annotations

from enum import StrEnum


class LedgerSqlState(StrEnum):
    INSUFFICIENT_FUNDS = "LD001"
    UNBALANCED = "LD002"
    ACCOUNT_NOT_FOUND = "LD003"
    REFERENCE_REUSED = "LD004"
    """the reference was used before for other lines"""
    HOLD_NOT_PENDING = "LD005"
    TRANSACTION_NOT_FOUND = "LD006"
    ALREADY_REVERSED = "LD007"
    INVALID_LINES = "LD008"
