"""The anti-fraud tests' settings: a service area around São Paulo and low thresholds, so each rule fires
within a few requests."""

from __future__ import annotations

import pytest

from laura.settings import Settings

SAO_PAULO = {
    "type": "Polygon",
    "coordinates": [[[-46.9, -23.9], [-46.3, -23.9], [-46.3, -23.3], [-46.9, -23.3], [-46.9, -23.9]]],
}
RIO = (-22.9068, -43.1729)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "mobility_service_area": SAO_PAULO,
            "fraud_impossible_movements_to_flag": 2,
            "fraud_cancellations_to_flag": 1,
            "fraud_cancellations_to_suspend": 2,
        }
    )
