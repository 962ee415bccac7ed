"""What the ride payments' SQL functions record (`sql/refund.sql`): one vocabulary for them, their
Python readers and their tests."""

from __future__ import annotations

from enum import StrEnum


class RefundReason(StrEnum):
    """Why a Pix received for a ride is owed back (`payment_refunds.reason`)."""

    RIDE_ALREADY_PAID = "ride_already_paid"
    """its charge was still payable and was paid, but another intent of the ride had paid it already"""
    CHARGE_NOT_ACTIVE = "charge_not_active"
    """a Pix into a charge already PAID, EXPIRED or CANCELLED: a second payment, or a late one"""
