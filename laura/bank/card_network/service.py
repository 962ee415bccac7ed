"""Card authorizations: the network asks, the issuer answers in one statement and holds the money on the
ledger (`card_authorize`); capture posts the hold, void releases it, refund credits a captured purchase
back with a new posting. Capture, void and refund run on the session path: they are not hot, and each
locks its authorization's row, so two of them on one authorization are serialized."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts import service as accounts
from laura.bank.accounts.cache import BalanceCache
from laura.bank.card_network import repository
from laura.bank.card_network.errors import (
    AlreadyCaptured,
    AmountExceeded,
    AuthorizationExpired,
    AuthorizationNotFound,
    CardNotFound,
    InvalidAuthorizationState,
)
from laura.bank.card_network.mcc import category_of
from laura.bank.card_network.outcomes import AuthorizeOutcome
from laura.bank.card_network.repository import CardNetworkRepository
from laura.bank.card_network.schemas import (
    AuthorizationOut,
    AuthorizationRequest,
    CardTransactionOut,
    Purchase,
)
from laura.bank.cards.crypto import CardMacs
from laura.bank.cards.models import CardTransaction, CardTransactionStatus
from laura.bank.metrics import count_card_authorization
from laura.bank.spending.changes import spending_changed
from laura.bank.transfers.calendar import day_and_month_starts
from laura.core.db import Database
from laura.core.events import publish
from laura.core.idempotency import IdempotencyKeyReused
from laura.core.models import utcnow, uuid7
from laura.core.money import from_cents, to_cents
from laura.core.statement import statement_committed
from laura.ledger import service as ledger
from laura.ledger.errors import HoldNotPending

SETTLEMENT = "2200"
"""The card network settlement payable (migration 0019): an approval holds the customer's money against it."""

_KEY_INDEX = "card_transactions_idempotency_key_key"


@dataclass(frozen=True)
class Network:
    """What an authorization needs besides its request: the look-up MACs and the hold's timeout."""

    macs: CardMacs
    hold_seconds: int


def request_hash(data: Purchase, number_hash: bytes, cvv_mac: bytes | None) -> bytes:
    """The request's fingerprint for its idempotency key: over the number's and CVV's MACs, never over the
    number itself (a plain hash of a card number is found by trying the few billion numbers of a BIN)."""
    canonical = {
        "number": number_hash.hex(),
        "cvv": cvv_mac.hex() if cvv_mac else None,
        "expiry": data.expiry,
        "cents": to_cents(data.amount),
        "currency": data.currency,
        "merchant": data.merchant.model_dump(),
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).digest()


async def authorize(
    db: Database,
    network: Network,
    data: AuthorizationRequest,
    *,
    cache: BalanceCache,
    now: datetime | None = None,
) -> AuthorizationOut:
    """Approve or decline, in one statement (`card_authorize`), the card found by its number's MAC."""
    number_hash = network.macs.number_hash(data.card_number)
    cvv_mac = network.macs.cvv_mac(data.card_number, data.cvv) if data.cvv else None
    return await decide(db, network, data, number_hash, cvv_mac, cache=cache, now=now)


async def decide(
    db: Database,
    network: Network,
    data: Purchase,
    number_hash: bytes,
    cvv_mac: bytes | None,
    *,
    cache: BalanceCache,
    now: datetime | None = None,
) -> AuthorizationOut:
    """`authorize` for a card known by its MACs (the demo seed's cards: it never sees their numbers). `now`
    is the purchase's time (the seed passes past ones); the ledger hold is dated by the database's clock."""
    started = time.perf_counter()
    now = now or utcnow()
    day_start, month_start = day_and_month_starts(now)
    args = {
        "id": uuid7(),
        "idempotency_key": data.idempotency_key,
        "request_hash": request_hash(data, number_hash, cvv_mac),
        "number_hash": number_hash,
        "expiry": data.expiry,
        "cvv_mac": cvv_mac,
        "cents": to_cents(data.amount),
        "currency": data.currency,
        "merchant": data.merchant.name,
        "mcc": data.merchant.mcc,
        "city": data.merchant.city,
        "country": data.merchant.country,
        "category": category_of(data.merchant.mcc).value,
        "now": now,
        "day_start": day_start,
        "month_start": month_start,
        "hold_id": uuid7(),
        "hold_seconds": network.hold_seconds,
    }
    row = await _authorize(db, args)
    outcome = AuthorizeOutcome(row["outcome"])
    if outcome is AuthorizeOutcome.CARD_NOT_FOUND:
        count_card_authorization("not_found", outcome.value, time.perf_counter() - started)
        raise CardNotFound()
    if outcome is AuthorizeOutcome.KEY_REUSED:
        raise IdempotencyKeyReused("This idempotencyKey was already used for a different authorization")
    approved = row["decline_code"] is None
    count_card_authorization(
        "approved" if approved else "declined", row["decline_code"], time.perf_counter() - started
    )
    if outcome is not AuthorizeOutcome.REPLAYED:
        await cache.invalidate(row["user_id"])
        statement_committed()
    return AuthorizationOut(
        authorization_id=row["authorization_id"],
        approved=approved,
        decline_code=row["decline_code"],
        amount=from_cents(row["amount_cents"]),
    )


async def _authorize(db: Database, args: dict) -> asyncpg.Record:
    """The statement; a concurrent request with the same key on another card loses the race to the key's
    unique index, and asked again it finds the winner's row (a replay or KEY_REUSED)."""
    try:
        return await repository.authorize(db, **args)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != _KEY_INDEX:
            raise
        return await repository.authorize(db, **args)


def transaction_out(tx: CardTransaction) -> CardTransactionOut:
    return CardTransactionOut(
        authorization_id=tx.id,
        status=tx.status,
        amount=from_cents(tx.amount_cents),
        captured_amount=from_cents(tx.captured_cents),
        refunded_amount=from_cents(tx.refunded_cents),
    )


async def _locked(session: AsyncSession, authorization_id: uuid.UUID) -> CardTransaction:
    tx = await CardNetworkRepository(session).locked(authorization_id)
    if tx is None:
        raise AuthorizationNotFound()
    return tx


async def capture(
    session: AsyncSession, authorization_id: uuid.UUID, amount: Decimal | None, *, cache: BalanceCache
) -> CardTransaction:
    """Post the hold (all of it, or `amount`: the rest is released). A retry with the same amount (or none)
    answers the captured authorization again; another amount is 409 ALREADY_CAPTURED."""
    tx = await _locked(session, authorization_id)
    cents = to_cents(amount) if amount is not None else None
    if tx.status in (CardTransactionStatus.CAPTURED, CardTransactionStatus.REFUNDED):
        if cents is None or cents == tx.captured_cents:
            return tx
        raise AlreadyCaptured(details={"capturedAmount": str(from_cents(tx.captured_cents))})
    if tx.status != CardTransactionStatus.AUTHORIZED:
        raise InvalidAuthorizationState(details={"status": tx.status})
    cents = tx.amount_cents if cents is None else cents
    if cents > tx.amount_cents:
        raise AmountExceeded(details={"authorizedAmount": str(from_cents(tx.amount_cents))})
    assert tx.hold_id is not None  # an AUTHORIZED row has its hold (card_authorize)
    try:
        await ledger.post_hold(
            session, tx.hold_id, reference=f"card:capture:{tx.id}", amount_cents=cents, reason="CARD_CAPTURE"
        )
    except HoldNotPending as exc:
        raise AuthorizationExpired() from exc
    tx.status, tx.captured_cents = CardTransactionStatus.CAPTURED, cents
    await _record_change(session, cache, "card.captured", tx)
    await spending_changed(session, tx.user_id)
    return tx


async def void(session: AsyncSession, authorization_id: uuid.UUID, *, cache: BalanceCache) -> CardTransaction:
    """Release the hold. Voiding a voided authorization answers it again; a captured one is 409."""
    tx = await _locked(session, authorization_id)
    if tx.status == CardTransactionStatus.VOIDED:
        return tx
    if tx.status != CardTransactionStatus.AUTHORIZED:
        raise InvalidAuthorizationState(details={"status": tx.status})
    assert tx.hold_id is not None
    await ledger.void_hold(session, tx.hold_id)  # a hold the expiry released already: a no-op
    tx.status = CardTransactionStatus.VOIDED
    await _record_change(session, cache, "card.voided", tx)
    return tx


async def refund(
    session: AsyncSession,
    authorization_id: uuid.UUID,
    amount: Decimal,
    key: str | None,
    *,
    cache: BalanceCache,
) -> CardTransaction:
    """Credit back part or all of a captured purchase with a new posting D 2200 C 2101.<user> (the capture
    is never edited). A partial refund keeps the authorization CAPTURED with its refunded amount; the last
    cent makes it REFUNDED. With a key, a retry refunds once (the ledger reference is the key's)."""
    tx = await _locked(session, authorization_id)
    cents = to_cents(amount)
    reference = f"card:refund:{tx.id}:{key if key is not None else tx.refunded_cents}"
    lines = [ledger.Line(SETTLEMENT, "D", cents), ledger.Line(accounts.ledger_code(tx.user_id), "C", cents)]
    if key is not None and await ledger.get_transaction(session, reference) is not None:
        # the same lines replay the first refund; other lines are 409 REFERENCE_CONFLICT
        await ledger.post(session, lines, reference=reference, reason="CARD_REFUND")
        return tx
    if tx.status != CardTransactionStatus.CAPTURED:
        raise InvalidAuthorizationState(details={"status": tx.status})
    if tx.refunded_cents + cents > tx.captured_cents:
        refundable = tx.captured_cents - tx.refunded_cents
        raise AmountExceeded(details={"refundableAmount": str(from_cents(refundable))})
    await ledger.post(
        session, lines, reference=reference, reason="CARD_REFUND", description=f"Estorno {tx.merchant}"
    )
    tx.refunded_cents += cents
    if tx.refunded_cents == tx.captured_cents:
        tx.status = CardTransactionStatus.REFUNDED
    await _record_change(session, cache, "card.refunded", tx)
    await spending_changed(session, tx.user_id)
    return tx


async def _record_change(session: AsyncSession, cache: BalanceCache, event: str, tx: CardTransaction) -> None:
    """The row's new state, the customer's event and, on commit, their balance's cache dropped."""
    await CardNetworkRepository(session).flush()
    cache.invalidate_after_commit(session, tx.user_id)
    data = transaction_out(tx).model_dump(mode="json", by_alias=True)
    await publish(
        session, event, {"cardId": str(tx.card_id), "merchant": tx.merchant, **data}, user_ids=[tx.user_id]
    )


async def void_released(session: AsyncSession, *, limit: int = 500) -> list[uuid.UUID]:
    """Mark VOIDED the authorizations whose hold the ledger's expiry released; the users they belong to."""
    return await CardNetworkRepository(session).void_released(limit)
