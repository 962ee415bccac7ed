"""What every money form of the web app shares with the API's transfer routes: the amount as a person types
it, the transfer limits from the settings, and the transfers-per-hour rate limit on the API's own key."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import Request

from laura.bank.transfers import service
from laura.identity.service import Principal


def parse_amount(text: str) -> Decimal | None:
    """`12,34`, `1.234,56` (Brazilian) or `12.34`: a positive amount with at most two decimals."""
    cleaned = text.strip().replace("R$", "").replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount


def transfer_limits(request: Request) -> service.Limits:
    settings = request.app.state.settings
    return service.Limits(
        per_transfer=settings.transfer_max_amount,
        daily=settings.transfer_daily_limit,
        pix_night=settings.pix_night_limit,
        schedule_max_days=settings.schedule_max_days,
    )


async def limit_transfers(request: Request, user: Principal) -> None:
    """The API's limit on transfers per hour (`POST /api/transfers/p2p`), on the same key."""
    if user.role != "admin":
        settings = request.app.state.settings
        await request.app.state.limiter.hit(
            settings.rate_limit_transfers,
            f"transfers:{user.id}",
            "Limite de transferências por hora atingido",
        )
