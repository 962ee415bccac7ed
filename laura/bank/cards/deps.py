"""The app's card issuer (data keys and card policy), and the caller's own card, for the routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from laura.bank.cards import service
from laura.bank.cards.issuer import CardIssuer
from laura.bank.cards.models import Card
from laura.core.db import SessionDep
from laura.identity.deps import CurrentUser


async def _issuer(request: Request) -> CardIssuer:
    issuer: CardIssuer = request.app.state.card_issuer
    return issuer


IssuerDep = Annotated[CardIssuer, Depends(_issuer)]


async def _owned_card(card_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Card:
    return await service.find_card(session, user.id, card_id)


OwnedCard = Annotated[Card, Depends(_owned_card)]
"""The caller's card named by the path, or 404 CARD_NOT_FOUND: declared before `VerifiedByCode`, it is
checked first, so asking for another customer's card spends no code."""
