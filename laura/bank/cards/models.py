"""Cards, their sealed data keys, and every authorization the card network sent (migration 0019)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from laura.bank.accounts import models as _accounts  # noqa: F401 - bank_accounts, which cards reference
from laura.core.db import Base
from laura.core.models import CreatedAt, UUIDPk, utcnow
from laura.identity import models as _identity  # noqa: F401 - users, which cards reference


class CardType(StrEnum):
    PHYSICAL = "PHYSICAL"
    VIRTUAL = "VIRTUAL"


class CardBrand(StrEnum):
    VISA = "VISA"
    MASTERCARD = "MASTERCARD"
    ELO = "ELO"


class CardStatus(StrEnum):
    """ACTIVE and BLOCKED go back and forth; LOST, STOLEN and CANCELLED are final."""

    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    CANCELLED = "CANCELLED"
    LOST = "LOST"
    STOLEN = "STOLEN"


class CardTransactionStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"
    DECLINED = "DECLINED"


class CardKey(Base):
    """A data key (AES-256) sealed by the master key; the newest one seals new cards."""

    __tablename__ = "card_keys"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[CreatedAt]


class Card(Base):
    __tablename__ = "cards"

    id: Mapped[UUIDPk]
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("bank_accounts.id"))
    type: Mapped[str] = mapped_column(String(8))
    brand: Mapped[str] = mapped_column(String(10))
    last_four: Mapped[str] = mapped_column(String(4))
    number_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    """HMAC-SHA256 of the number under the look-up key (laura.bank.cards.crypto): found without decrypting."""
    cvv_mac: Mapped[bytes] = mapped_column(LargeBinary)
    """HMAC-SHA256 of number and CVV: the network's CVV checked in SQL without decrypting."""
    number_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    cvv_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(Text, ForeignKey("card_keys.id"))
    holder_name: Mapped[str] = mapped_column(String(26))
    status: Mapped[str] = mapped_column(String(10), default=CardStatus.ACTIVE)
    expiry_date: Mapped[str] = mapped_column(String(5))
    """MM/YY, as printed on the card."""
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """The last instant the card authorizes: the end of its expiry month, or a virtual card's expiresAt."""
    daily_limit_cents: Mapped[int] = mapped_column(BigInteger)
    monthly_limit_cents: Mapped[int] = mapped_column(BigInteger)
    limit_cents: Mapped[int | None] = mapped_column(BigInteger)
    """A virtual card's total limit over its life; None for a physical card."""
    description: Mapped[str | None] = mapped_column(String(100))
    replaces_card_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("cards.id"))
    block_reason: Mapped[str | None] = mapped_column(String(100))
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class CardTransaction(Base):
    """One authorization and what became of it; a decline is recorded too, with nothing moved."""

    __tablename__ = "card_transactions"

    id: Mapped[UUIDPk]
    card_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("cards.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    captured_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    merchant: Mapped[str] = mapped_column(String(255))
    mcc: Mapped[str] = mapped_column(String(4))
    merchant_city: Mapped[str | None] = mapped_column(String(100))
    merchant_country: Mapped[str | None] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    decline_code: Mapped[str | None] = mapped_column(String(30))
    hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    """The ledger hold an approval placed (laura.ledger), posted by capture and released by void."""
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
