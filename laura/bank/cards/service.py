"""Cards: issued with the account, listed with what they spent, virtual ones made on request, blocked,
reported lost or stolen (and replaced), cancelled, and revealed to their holder.

A card's number and CVV exist in clear only while a card is made or revealed: what is stored is sealed
(`crypto.CardVault`), and what is logged, audited or published names a card by id and last four digits.
Every status change locks the card's row, so a block and an unblock sent together end in one of the two.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit import service as audit
from laura.bank.accounts import service as accounts
from laura.bank.cards.crypto import grouped, new_cvv, new_number
from laura.bank.cards.embossing import expiry_of, physical_expiry
from laura.bank.cards.embossing import holder_name as embossed_name
from laura.bank.cards.errors import (
    CardNotCancellable,
    CardNotFound,
    CardPermanentlyBlocked,
    InvalidCardExpiry,
    PhysicalCardRequired,
    VirtualCardLimitReached,
)
from laura.bank.cards.issuer import CardIssuer
from laura.bank.cards.keys import CardKeyring
from laura.bank.cards.models import Card, CardStatus, CardType
from laura.bank.cards.repository import CardRepository
from laura.bank.cards.schemas import (
    BlockAction,
    BlockOut,
    BlockRequest,
    CancelOut,
    CardDetails,
    CardList,
    CardOut,
    VirtualCardOut,
    VirtualCardRequest,
)
from laura.bank.cards.states import FINAL, can_move
from laura.bank.transfers.calendar import day_and_month_starts
from laura.core.db import Database
from laura.core.events import publish
from laura.core.models import utcnow, uuid7
from laura.core.money import to_cents

PERMANENT_REASONS = {"LOST": CardStatus.LOST, "STOLEN": CardStatus.STOLEN}
"""Block reasons that end a card: it is never unblocked, and a physical one is replaced."""


def _public(card: Card) -> dict[str, object]:
    """What audit rows and events say of a card: never its number or CVV."""
    return {
        "id": str(card.id),
        "type": card.type,
        "brand": card.brand,
        "lastFourDigits": card.last_four,
        "status": card.status,
    }


async def _issue(
    session: AsyncSession,
    issuer: CardIssuer,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    holder_name: str,
    type: CardType,
    expires_at: datetime,
    expiry_date: str,
    limit_cents: int | None = None,
    description: str | None = None,
    replaces: Card | None = None,
) -> tuple[Card, str, str]:
    """Make a card sealed under the newest data key; returns it with its number and CVV, in clear."""
    repo = CardRepository(session)
    vault = await issuer.keyring.sealing(session)
    card_id = uuid7()
    number, cvv = new_number(issuer.policy.bin), new_cvv()
    while await repo.number_taken(vault.macs.number_hash(number)):
        number = new_number(issuer.policy.bin)
    sealed = vault.seal(card_id, number, cvv)
    card = Card(
        id=card_id,
        user_id=user_id,
        account_id=account_id,
        type=type,
        brand=issuer.policy.brand,
        last_four=sealed.last_four,
        number_hash=sealed.number_hash,
        cvv_mac=sealed.cvv_mac,
        number_sealed=sealed.number_sealed,
        cvv_sealed=sealed.cvv_sealed,
        key_id=sealed.key_id,
        holder_name=holder_name,
        status=CardStatus.ACTIVE,
        expiry_date=expiry_date,
        expires_at=expires_at,
        daily_limit_cents=issuer.policy.daily_limit_cents,
        monthly_limit_cents=issuer.policy.monthly_limit_cents,
        limit_cents=limit_cents,
        description=description,
        replaces_card_id=replaces.id if replaces is not None else None,
    )
    await repo.add(card)
    new = {**_public(card), "replacesCardId": str(replaces.id) if replaces is not None else None}
    audit.record(session, action="CARD_ISSUED", resource_type="card", resource_id=str(card.id), new=new)
    await publish(session, "card.issued", new, user_ids=[user_id])
    return card, number, cvv


async def issue_physical(
    session: AsyncSession,
    issuer: CardIssuer,
    *,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    holder_name: str,
    replaces: Card | None = None,
) -> Card:
    """The account's debit card, valid `validity_years` to the end of the month; the number is not shown."""
    expiry_date, expires_at = physical_expiry(utcnow(), issuer.policy.validity_years)
    card, _, _ = await _issue(
        session,
        issuer,
        user_id=user_id,
        account_id=account_id,
        holder_name=holder_name,
        type=CardType.PHYSICAL,
        expires_at=expires_at,
        expiry_date=expiry_date,
        replaces=replaces,
    )
    return card


async def issue_missing_cards(session: AsyncSession, issuer: CardIssuer) -> int:
    """A physical card for every account that never had one (opened before cards existed): idempotent."""
    missing = await CardRepository(session).accounts_without_card()
    for user_id, account_id, name in missing:
        await issue_physical(
            session, issuer, user_id=user_id, account_id=account_id, holder_name=embossed_name(name)
        )
    return len(missing)


async def list_cards(session: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> CardList:
    day, month = day_and_month_starts(now)
    rows = await CardRepository(session).listed(user_id, day=day, month=month)
    return CardList(data=[CardOut.of(card, today, this_month) for card, today, this_month in rows])


async def create_virtual(
    session: AsyncSession, issuer: CardIssuer, user_id: uuid.UUID, data: VirtualCardRequest
) -> VirtualCardOut:
    """A virtual card with a total `limit`, expiring at `expiresAt` (inside the physical card's validity)."""
    account = await accounts.require_account(session, user_id, lock=True)  # serializes the count below
    repo = CardRepository(session)
    physical = await repo.physical(account.id)
    if physical is None:
        raise PhysicalCardRequired()
    if not utcnow() < data.expires_at <= physical.expires_at:
        raise InvalidCardExpiry(
            details=[
                {"field": "expiresAt", "message": f"must be after now and at most {physical.expires_at}"}
            ]
        )
    if await repo.live_virtual_count(user_id) >= issuer.policy.max_virtual:
        raise VirtualCardLimitReached(
            f"At most {issuer.policy.max_virtual} virtual cards may be active or blocked at once"
        )
    card, number, cvv = await _issue(
        session,
        issuer,
        user_id=user_id,
        account_id=account.id,
        holder_name=physical.holder_name,
        type=CardType.VIRTUAL,
        expires_at=data.expires_at,
        expiry_date=expiry_of(data.expires_at),
        limit_cents=to_cents(data.limit),
        description=data.description,
    )
    return VirtualCardOut.of(card, grouped(number), cvv)


async def _owned(
    session: AsyncSession, user_id: uuid.UUID, card_id: uuid.UUID, *, lock: bool = False
) -> Card:
    card = await CardRepository(session).owned(card_id, user_id, lock=lock)
    if card is None:
        raise CardNotFound()
    return card


async def find_card(session: AsyncSession, user_id: uuid.UUID, card_id: uuid.UUID) -> Card:
    """The user's card, or 404 CARD_NOT_FOUND (another customer's card included)."""
    return await _owned(session, user_id, card_id)


async def _move(session: AsyncSession, card: Card, target: CardStatus, reason: str | None) -> None:
    old = card.status
    card.status = target
    card.block_reason = reason if target != CardStatus.ACTIVE else None
    card.blocked_at = utcnow() if target != CardStatus.ACTIVE else None
    await session.flush()
    audit.record(
        session,
        action="CARD_UNBLOCKED" if target == CardStatus.ACTIVE else f"CARD_{target}",
        resource_type="card",
        resource_id=str(card.id),
        old={"status": old},
        new={"status": target, "reason": card.block_reason},
    )
    event = "card.unblocked" if target == CardStatus.ACTIVE else f"card.{target.lower()}"
    await publish(session, event, {**_public(card), "reason": card.block_reason}, user_ids=[card.user_id])


async def set_block(
    session: AsyncSession, issuer: CardIssuer, user_id: uuid.UUID, card_id: uuid.UUID, data: BlockRequest
) -> BlockOut:
    """BLOCK, or UNBLOCK, the card; a LOST or STOLEN reason ends it and replaces a physical card.

    Asking for the status the card has already (blocking a blocked card, unblocking an active one)
    answers it unchanged; a card that has ended (LOST, STOLEN, CANCELLED) is 409 either way."""
    card = await _owned(session, user_id, card_id, lock=True)
    if card.status in FINAL:
        raise CardPermanentlyBlocked()
    reason = data.reason
    permanent = PERMANENT_REASONS.get((reason or "").strip().upper())
    if data.action == BlockAction.UNBLOCK:
        target = CardStatus.ACTIVE
    else:
        target = permanent or CardStatus.BLOCKED
        reason = permanent or reason
    replacement = None
    if target != card.status:
        assert can_move(card.status, target), f"{card.status} -> {target} is not in the state table"
        await _move(session, card, target, reason)
        if permanent and card.type == CardType.PHYSICAL:
            replacement = await issue_physical(
                session,
                issuer,
                user_id=user_id,
                account_id=card.account_id,
                holder_name=card.holder_name,
                replaces=card,
            )
    return BlockOut(
        id=card.id,
        status=card.status,
        blocked_at=card.blocked_at,
        replacement_card_id=replacement.id if replacement else None,
    )


async def cancel_virtual(session: AsyncSession, user_id: uuid.UUID, card_id: uuid.UUID) -> CancelOut:
    """A virtual card CANCELLED for good (it stays listed); cancelling it again answers it unchanged."""
    card = await _owned(session, user_id, card_id, lock=True)
    if card.type != CardType.VIRTUAL:
        raise CardNotCancellable()
    if card.status != CardStatus.CANCELLED:
        if card.status in FINAL:
            raise CardPermanentlyBlocked()
        await _move(session, card, CardStatus.CANCELLED, "CANCELLED_BY_CUSTOMER")
    return CancelOut(id=card.id, status=card.status, cancelled_at=card.blocked_at)


async def reveal(db: Database, keyring: CardKeyring, card: Card) -> CardDetails:
    """The card's number and CVV for its holder (the route has checked the verification code), with the
    audit row of who saw which card from which IP (never the number). A GET's session only reads, so the
    reveal and its audit row are a unit of work of their own: no number is shown without its row."""
    async with db.unit_of_work() as session:
        vault = await keyring.opening(session, card.key_id)
        number, cvv = vault.open(card.id, card.key_id, card.number_sealed, card.cvv_sealed)
        audit.record(
            session,
            action="CARD_DETAILS_REVEALED",
            resource_type="card",
            resource_id=str(card.id),
            new={"lastFourDigits": card.last_four},
            actor_id=card.user_id,
        )
    return CardDetails(
        id=card.id,
        number=grouped(number),
        cvv=cvv,
        holder_name=card.holder_name,
        expiry_date=card.expiry_date,
    )
