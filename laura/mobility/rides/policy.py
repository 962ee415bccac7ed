"""The ride's knobs: dispatch batches and rounds, surge, cancellation fee, accept lock and rate limit, and
the anti-fraud rules'."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from laura.mobility.fraud.policy import FraudPolicy
from laura.mobility.matching.service import MatchingPolicy
from laura.settings import Settings


@dataclass(frozen=True)
class RidePolicy:
    """The dispatch and money knobs (settings `ride_*`, `mobility_*`)."""

    matching: MatchingPolicy = field(default_factory=MatchingPolicy)
    fraud: FraudPolicy = field(default_factory=FraudPolicy)
    batch_size: int = 5
    offer_ttl_s: float = 15.0
    max_rounds: int = 3
    surge_cap: Decimal = Decimal("2.0")
    surge_radius_m: float = 2000.0
    cancellation_fee: Decimal = Decimal("5.00")
    free_cancellation_s: float = 120.0
    accept_lock_ms: int = 10_000
    accept_rate_limit: str = "5/minute"
    location_max_delay_s: float = 120.0
    timezone: str = "America/Sao_Paulo"
    redis_namespace: str = "mobility"

    @classmethod
    def from_settings(cls, settings: Settings) -> RidePolicy:
        return cls(
            matching=MatchingPolicy.from_settings(settings),
            fraud=FraudPolicy.from_settings(settings),
            batch_size=settings.ride_offer_batch_size,
            offer_ttl_s=settings.ride_offer_ttl_seconds,
            max_rounds=settings.ride_max_offer_rounds,
            surge_cap=settings.ride_surge_cap,
            surge_radius_m=settings.ride_surge_radius_m,
            cancellation_fee=settings.ride_cancellation_fee,
            free_cancellation_s=settings.ride_free_cancellation_seconds,
            accept_lock_ms=settings.ride_accept_lock_ms,
            accept_rate_limit=settings.rate_limit_ride_accept,
            location_max_delay_s=settings.mobility_location_max_delay_seconds,
            timezone=settings.mobility_timezone,
            redis_namespace=settings.mobility_redis_namespace,
        )
