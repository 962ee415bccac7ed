"""The anti-fraud tests' settings: a service area around São Paulo and low thresholds, so each rule fires
within a few requests (a maximum fare of R$ 30, which a ride across town exceeds)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from laura.settings import Settings

SAO_PAULO = {
    "type": "Polygon",
    "coordinates": [[[-46.9, -23.9], [-46.3, -23.9], [-46.3, -23.3], [-46.9, -23.3], [-46.9, -23.9]]],
}
RIO = (-22.9068, -43.1729)
FAR = (-23.40, -46.60)
"""18 km north of Paulista, inside the area: a fare near R$ 47, over the tests' maximum of R$ 30."""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "mobility_service_area": SAO_PAULO,
            "fraud_impossible_movements_to_flag": 2,
            "fraud_cancellations_to_flag": 1,
            "fraud_cancellations_to_suspend": 2,
            "fraud_max_fare": Decimal("30.00"),
        }
    )
