"""What `bank_p2p_send` (`sql/p2p_send.sql`) answers: the one vocabulary of the SQL function, its Python
caller and their tests."""

from __future__ import annotations

from enum import StrEnum


class P2PSendOutcome(StrEnum):
    """`bank_p2p_send`'s `outcome`; every value but COMPLETED means nothing was written."""

    SESSION_ENDED = "SESSION_ENDED"
    IN_PROGRESS = "IN_PROGRESS"
    ANSWERED = "ANSWERED"
    NO_ACCOUNT = "NO_ACCOUNT"
    ACCOUNT_NOT_ACTIVE = "ACCOUNT_NOT_ACTIVE"
    NO_RECIPIENT = "NO_RECIPIENT"
    OVER_TRANSFER_LIMIT = "OVER_TRANSFER_LIMIT"
    OVER_DAILY_LIMIT = "OVER_DAILY_LIMIT"
    COMPLETED = "COMPLETED"
