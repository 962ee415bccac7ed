"""What `card_authorize` (`sql/authorize.sql`) answers: the one vocabulary of the SQL function, its Python
caller and their tests."""

from __future__ import annotations

from enum import StrEnum


class AuthorizeOutcome(StrEnum):
    """`card_authorize`'s `outcome`."""

    APPROVED = "APPROVED"
    """the hold was placed and the AUTHORIZED row written"""
    DECLINED = "DECLINED"
    """a DECLINED row was written with its `decline_code`; nothing moved"""
    REPLAYED = "REPLAYED"
    """the idempotency key was answered before for the same request: the first answer, nothing written"""
    KEY_REUSED = "KEY_REUSED"
    """the idempotency key was used before for another request: nothing written"""
    CARD_NOT_FOUND = "CARD_NOT_FOUND"
    """no card has this number: nothing written (a row needs its card)"""


class DeclineCode(StrEnum):
    """Why an authorization was declined, in the order `card_authorize` checks."""

    CARD_BLOCKED = "CARD_BLOCKED"
    """the card is BLOCKED, LOST, STOLEN or CANCELLED"""
    ACCOUNT_NOT_ACTIVE = "ACCOUNT_NOT_ACTIVE"
    """the card's checking account is blocked or closed"""
    CARD_EXPIRED = "CARD_EXPIRED"
    """past the card's expiry, or the expiry sent is not the card's"""
    INVALID_CVV = "INVALID_CVV"
    CURRENCY_NOT_SUPPORTED = "CURRENCY_NOT_SUPPORTED"
    """only BRL"""
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    """the card's Brasília-day or month limit, or a virtual card's limit over its life"""
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    """the ledger refused the hold (LD001): the account's available balance is short"""
