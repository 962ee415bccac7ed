"""The rules' counters: flags raised per rule and location reports refused per reason."""

from __future__ import annotations

from prometheus_client import Counter

FRAUD_FLAGS = Counter("fraud_flags_total", "Fraud review items raised", ["rule"])
LOCATION_REPORTS_REFUSED = Counter("location_reports_refused_total", "Location reports refused", ["reason"])
SERVICE_AREA_REFUSALS = Counter("rides_outside_service_area_total", "Ride requests outside the service area")
