"""The app's card issuer (data keys and card policy) for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from laura.bank.cards.issuer import CardIssuer


async def _issuer(request: Request) -> CardIssuer:
    issuer: CardIssuer = request.app.state.card_issuer
    return issuer


IssuerDep = Annotated[CardIssuer, Depends(_issuer)]
