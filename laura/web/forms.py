"""A service's refusal as a sentence next to the form field it is about, in the page's language: never a
stack trace or the API's JSON. Known errors have a field and a text of their own; any other reads as a
general sentence above the form."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from laura.core.errors import AppError
from laura.web.i18n import N_

GENERAL = "_form"
_BY_ERROR: dict[str, tuple[str, str]] = {
    "INVALID_CREDENTIALS": (GENERAL, N_("E-mail or password is incorrect.")),
    "RATE_LIMITED": (GENERAL, N_("Too many attempts. Wait a few minutes and try again.")),
    "EMAIL_IN_USE": ("email", N_("An account with this e-mail already exists.")),
    "CPF_IN_USE": ("cpf", N_("An account with this CPF already exists.")),
    "INSUFFICIENT_BALANCE": ("amount", N_("Your available balance is not enough for this amount.")),
    "TRANSFER_LIMIT_EXCEEDED": ("amount", N_("This amount is over your transfer limit.")),
    "USER_NOT_FOUND": ("email", N_("No customer of the bank has this e-mail.")),
    "SELF_TRANSFER": ("email", N_("You cannot send money to yourself.")),
    "ACCOUNT_NOT_ACTIVE": (GENERAL, N_("This account cannot move money right now.")),
    "ACCOUNT_NOT_FOUND": (GENERAL, N_("This account cannot move money right now.")),
    "REQUEST_IN_PROGRESS": (
        GENERAL,
        N_("This request is still being processed. Reload the page in a moment."),
    ),
}
_BY_FIELD: dict[str, str] = {
    "email": N_("Enter a valid e-mail address."),
    "password": N_("Enter a password."),
    "name": N_("Enter your full name (at least 2 letters)."),
    "phone": N_("Enter a valid Brazilian phone number."),
    "cpf": N_("Enter a valid CPF."),
    "amount": N_("Enter an amount greater than zero, like 12,34."),
    "description": N_("The description can have at most 140 characters."),
}
_WEAK_PASSWORD = N_("The password is too short.")
_UNKNOWN = N_("Something went wrong. Please try again.")


@dataclass
class FormErrors:
    """Field name -> message id (English; the template translates it)."""

    fields: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def _camel_to_form(name: str) -> str:
    return {"userType": "user_type", "recipientUserId": "email"}.get(name, name)


def from_app_error(error: AppError) -> FormErrors:
    return from_code(error.error, error.details)


def from_code(code: str, details: object = None) -> FormErrors:
    """`from_app_error` for a refusal known by its wire form (an Idempotency-Key's stored answer)."""
    errors = FormErrors()
    if code == "VALIDATION_ERROR":
        for detail in details if isinstance(details, list) else []:
            name = _camel_to_form(str(detail.get("field", "")))
            message = _WEAK_PASSWORD if name == "password" else _BY_FIELD.get(name)
            if message:
                errors.add(name, message)
        if not errors:
            errors.add(GENERAL, _UNKNOWN)
        return errors
    name, message = _BY_ERROR.get(code, (GENERAL, _UNKNOWN))
    errors.add(name, message)
    return errors


def from_validation(error: ValidationError, known: tuple[str, ...]) -> FormErrors:
    """A model the route built from the form refused a field (pydantic's message stays out of the page)."""
    errors = FormErrors()
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        name = _camel_to_form(loc[0]) if loc else GENERAL
        errors.add(name if name in known else GENERAL, _BY_FIELD.get(name, _UNKNOWN))
    return errors
