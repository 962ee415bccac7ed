"""What `pix_apply_received` and `pix_ingest_delivery` (`sql/intake.sql`) answer for each received Pix: the
one vocabulary of the SQL functions, their Python callers and their tests."""

from __future__ import annotations

from enum import StrEnum


class ReceivedPixOutcome(StrEnum):
    """A received Pix's `outcome`."""

    APPLIED = "applied"
    """the charge was ACTIVE with this amount: now PAID, and its purpose's effect ran"""
    UNMATCHED = "unmatched"
    FLAGGED = "flagged"
    """recorded for review; the charge keeps its first review_reason"""
    DUPLICATE = "duplicate"
    """this e2eId was recorded before: nothing changed"""


class ReceivedPixReason(StrEnum):
    """Why a received Pix was not applied (`reason`, and the charge's `review_reason`)."""

    NO_TXID = "no_txid"
    UNKNOWN_TXID = "unknown_txid"
    CHARGE_NOT_ACTIVE = "charge_not_active"
    AMOUNT_MISMATCH = "amount_mismatch"
