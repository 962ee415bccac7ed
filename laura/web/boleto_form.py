"""The boleto pages' form: what the confirmation step sends to be paid, and each refusal of the bills
service as a sentence next to the field it is about (the line, the amount or the day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from starlette.datastructures import FormData

from laura.web import forms
from laura.web.i18n import N_
from laura.web.transfer_limits import parse_amount

FIELDS = ("barcode", "amount", "when", "payment_date")
NOW, LATER = "now", "later"

_BY_ERROR: dict[str, tuple[str, str]] = {
    "INVALID_BARCODE": ("barcode", N_("This is not a valid boleto line: check the digits and try again.")),
    "AMOUNT_MISMATCH": ("amount", N_("The amount differs from the amount written in the boleto.")),
    "BILL_ALREADY_PAID": ("barcode", N_("This boleto has already been paid.")),
    "BILL_OVERDUE": ("barcode", N_("This boleto is past its payment limit and can no longer be paid.")),
    "IDEMPOTENCY_KEY_REUSED": (
        forms.GENERAL,
        N_("This confirmation was already used for other details. Check them below and confirm again."),
    ),
}
_BY_FIELD: dict[str, tuple[str, str]] = {
    "paymentDate": ("payment_date", N_("Choose a day from today up to one year ahead.")),
    "payment_date": ("payment_date", N_("Choose a day from today up to one year ahead.")),
    "amount": ("amount", N_("Enter an amount greater than zero, like 12,34.")),
    "barcode": ("barcode", N_("This is not a valid boleto line: check the digits and try again.")),
}
EMPTY_LINE = N_("Paste or type the boleto's line (47 or 48 digits) or its barcode (44 digits).")
PAST_LIMIT = N_("This boleto is past its payment limit and can no longer be paid.")
CHOOSE_DAY = N_("Choose the day to pay.")
ENTER_AMOUNT = N_("Enter the amount to pay: this boleto does not say it.")


@dataclass
class PayForm:
    """The confirmation's fields as sent, and what they say."""

    values: dict[str, str]
    amount: Decimal | None
    payment_date: date | None
    errors: forms.FormErrors


def read(form: FormData) -> PayForm:
    values = {name: str(form.get(name, "")).strip()[:80] for name in FIELDS}
    errors = forms.FormErrors()
    amount = parse_amount(values["amount"]) if values["amount"] else None
    if values["amount"] and amount is None:
        errors.add("amount", _BY_FIELD["amount"][1])
    payment_date = None
    if values["when"] == LATER:
        try:
            payment_date = date.fromisoformat(values["payment_date"])
        except ValueError:
            errors.add("payment_date", CHOOSE_DAY)
    return PayForm(values, amount, payment_date, errors)


def refusal(code: str, details: object = None) -> forms.FormErrors:
    """A refusal (an `AppError`, or a stored answer's `error` and `details`) next to its field."""
    errors = forms.FormErrors()
    if code in _BY_ERROR:
        errors.add(*_BY_ERROR[code])
        return errors
    if code == "VALIDATION_ERROR" and isinstance(details, list):
        for detail in details:
            name = str(detail.get("field", "")) if isinstance(detail, dict) else ""
            if name in _BY_FIELD:
                errors.add(*_BY_FIELD[name])
        if errors:
            return errors
    return forms.from_code(code, details)


def pretty_line(line: str) -> str:
    """A typed line as printed on the slip: a bank line's five fields with their dots, a utility line's four
    blocks with their check digits."""
    if len(line) == 47 and line.isdigit():
        return (
            f"{line[0:5]}.{line[5:10]} {line[10:15]}.{line[15:21]} {line[21:26]}.{line[26:32]} "
            f"{line[32]} {line[33:]}"
        )
    if len(line) == 48 and line.isdigit():
        return " ".join(f"{line[i : i + 11]}-{line[i + 11]}" for i in range(0, 48, 12))
    return line
