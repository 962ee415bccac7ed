"""The app's card issuer (data keys and card policy), and the caller's card to reveal, for the routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from laura.bank.cards import service
from laura.bank.cards.issuer import CardIssuer
from laura.bank.cards.models import Card
from laura.core.db import SessionDep
from laura.identity.deps import CurrentUser, VerificationCodeHeader


async def _issuer(request: Request) -> CardIssuer:
    issuer: CardIssuer = request.app.state.card_issuer
    return issuer


IssuerDep = Annotated[CardIssuer, Depends(_issuer)]


async def _card_to_reveal(
    card_id: uuid.UUID, user: CurrentUser, session: SessionDep, _code: VerificationCodeHeader = None
) -> Card:
    """The caller's card named by the path, or 404 CARD_NOT_FOUND, checked before `VerifiedByCode` so asking
    for another customer's card spends no code. FastAPI validates a dependency's own parameters before
    calling it, but a later dependency's only after the earlier ones ran: the code header is declared here
    too, so a malformed one (a NUL) is a 422 naming it, not the 404."""
    return await service.find_card(session, user.id, card_id)


CardToReveal = Annotated[Card, Depends(_card_to_reveal)]
"""The card `/details` reveals, found before the code is spent; declared before `VerifiedByCode`."""
