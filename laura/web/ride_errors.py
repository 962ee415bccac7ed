"""The mobility services' refusals as sentences next to the rider's and driver's form fields (the bank's
are in `laura.web.forms`; these are kept apart so each area's texts merge on their own)."""

from __future__ import annotations

from typing import Any

from laura.core.errors import AppError
from laura.web import forms
from laura.web.forms import GENERAL, FormErrors
from laura.web.i18n import N_

_BY_ERROR: dict[str, tuple[str, str]] = {
    "ACTIVE_RIDE_EXISTS": (GENERAL, N_("You already have a ride in progress.")),
    "OUTSIDE_SERVICE_AREA": ("pickup", N_("This place is outside the area we serve.")),
    "ACCOUNT_SUSPENDED": (GENERAL, N_("Your account is suspended. Talk to support.")),
    "PASSENGER_PROFILE_REQUIRED": (GENERAL, N_("Only a passenger account can request rides.")),
    "DRIVER_PROFILE_REQUIRED": (GENERAL, N_("Register as a driver first.")),
    "RIDE_NOT_FOUND": (GENERAL, N_("This ride is not available any more.")),
    "RIDE_ALREADY_ACCEPTED": (GENERAL, N_("Another driver accepted this ride first.")),
    "OFFER_EXPIRED": (GENERAL, N_("This offer is no longer open.")),
    "DRIVER_BUSY": (GENERAL, N_("Finish your current trip before accepting another.")),
    "INVALID_STATE_TRANSITION": (GENERAL, N_("This ride has moved on; the page shows where it is now.")),
    "RIDE_ALREADY_RATED": ("stars", N_("You already rated this ride.")),
    "RIDE_NOT_COMPLETED": ("stars", N_("A ride can be rated once it is completed.")),
    "RIDE_NOT_PAYABLE": (GENERAL, N_("This ride has nothing to pay.")),
    "DRIVER_NOT_APPROVED": (GENERAL, N_("Your registration has not been approved yet.")),
    "DRIVER_ALREADY_REGISTERED": (GENERAL, N_("You are already registered as a driver.")),
    "CPF_IN_USE": ("cpf", N_("A driver with this CPF is already registered.")),
    "CNH_IN_USE": ("cnh_number", N_("A driver with this CNH is already registered.")),
    "LICENSE_PLATE_IN_USE": ("plate", N_("A vehicle with this plate is already registered.")),
    "IMPOSSIBLE_MOVEMENT": (GENERAL, N_("That position is too far from the last one.")),
    "INSUFFICIENT_BALANCE": ("amount", N_("Your available balance is not enough for this amount.")),
    "PAYOUT_BELOW_MINIMUM": ("amount", N_("This amount is below the minimum payout.")),
    "PAYOUT_LIMIT_EXCEEDED": ("amount", N_("This amount is over your payout limit.")),
    "RATE_LIMITED": (GENERAL, N_("Too many attempts. Wait a few minutes and try again.")),
}
_BY_FIELD: dict[str, tuple[str, str]] = {
    "fullName": ("full_name", N_("Enter your full name (at least 2 letters).")),
    "cpf": ("cpf", N_("Enter a valid CPF.")),
    "cnhNumber": ("cnh_number", N_("Enter a valid CNH number (11 digits).")),
    "pixKey": ("pix_key", N_("Enter a valid Pix key: CPF, e-mail, phone or random key.")),
    "vehicle.licensePlate": ("plate", N_("Enter a plate like ABC1234 or ABC1D23.")),
    "vehicle.brand": ("brand", N_("Enter the vehicle's brand.")),
    "vehicle.model": ("model", N_("Enter the vehicle's model.")),
    "vehicle.year": ("year", N_("This vehicle is too old for its category.")),
    "vehicle.category": ("category", N_("Choose a category.")),
    "stars": ("stars", N_("Choose from 1 to 5 stars.")),
    "comment": ("comment", N_("The comment can have at most 500 characters.")),
    "amount": ("amount", N_("Enter an amount greater than zero, like 12,34.")),
}
_UNKNOWN = N_("Something went wrong. Please try again.")


def field_error(name: str) -> tuple[str, str]:
    """(form field, message id) for an API field name such as `vehicle.year`."""
    return _BY_FIELD.get(name, (GENERAL, _UNKNOWN))


def from_code(code: str, details: Any = None) -> FormErrors:
    errors = FormErrors()
    if code == "VALIDATION_ERROR":
        for detail in details if isinstance(details, list) else []:
            errors.add(*field_error(str(detail.get("field", ""))))
        if not errors:
            errors.add(GENERAL, _UNKNOWN)
        return errors
    if code in _BY_ERROR:
        errors.add(*_BY_ERROR[code])
        return errors
    return forms.from_code(code, details)


def from_app_error(error: AppError) -> FormErrors:
    return from_code(error.error, error.details)


def from_answer(body: Any) -> FormErrors:
    """A stored refusal (an Idempotency-Key's replay, an accept's answer) as the page's sentence."""
    answer = body if isinstance(body, dict) else {}
    return from_code(str(answer.get("error", "")), answer.get("details"))
