"""The rules' knobs, read once from settings (`mobility_service_area`, `fraud_*`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from laura.mobility.fraud.geofence import Ring, polygons
from laura.settings import Settings


@dataclass(frozen=True)
class FraudPolicy:
    service_area: list[list[Ring]] | None = None
    max_speed_kmh: float = 200.0
    min_judged_distance_m: float = 200.0
    impossible_movements_to_flag: int = 3
    min_flagged_jump_m: float = 1000.0
    cancellations_to_flag: int = 10
    cancellations_to_suspend: int = 20
    max_fare: Decimal = Decimal("500.00")
    long_route_ratio: float = 1.8
    long_route_min_extra_m: float = 1000.0
    collusion_rides: int = 4
    collusion_window_hours: float = 24.0
    collusion_max_km: float = 2.0
    timezone: str = "America/Sao_Paulo"

    @classmethod
    def from_settings(cls, settings: Settings) -> FraudPolicy:
        area = settings.mobility_service_area
        return cls(
            service_area=polygons(area) if area is not None else None,
            max_speed_kmh=settings.fraud_max_speed_kmh,
            min_judged_distance_m=settings.fraud_min_judged_distance_m,
            impossible_movements_to_flag=settings.fraud_impossible_movements_to_flag,
            min_flagged_jump_m=settings.fraud_min_flagged_jump_m,
            cancellations_to_flag=settings.fraud_cancellations_to_flag,
            cancellations_to_suspend=settings.fraud_cancellations_to_suspend,
            max_fare=settings.fraud_max_fare,
            long_route_ratio=settings.fraud_long_route_ratio,
            long_route_min_extra_m=settings.fraud_long_route_min_extra_m,
            collusion_rides=settings.fraud_collusion_rides,
            collusion_window_hours=settings.fraud_collusion_window_hours,
            collusion_max_km=settings.fraud_collusion_max_km,
            timezone=settings.mobility_timezone,
        )
