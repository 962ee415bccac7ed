"""The statement's filters as the page's GET form sends them: Brasília days (the bank's calendar) turned
into the UTC instants the accounts service reads, a kind and a status, and the query string that keeps
them across pages, the CSV link and htmx refreshes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from laura.bank.accounts.entries import EntryKind, EntryStatus
from laura.web.forms import FormErrors
from laura.web.i18n import BRASILIA, N_

KINDS: tuple[tuple[EntryKind, str], ...] = (
    (EntryKind.P2P, N_("Transfer between accounts")),
    (EntryKind.PIX, N_("Pix")),
    (EntryKind.TED, N_("TED")),
    (EntryKind.BILL, N_("Boleto")),
    (EntryKind.CARD, N_("Card")),
    (EntryKind.DEPOSIT, N_("Deposit")),
)
STATUSES: tuple[tuple[EntryStatus, str], ...] = (
    (EntryStatus.COMPLETED, N_("Completed")),
    (EntryStatus.PENDING, N_("Pending")),
    (EntryStatus.SETTLED, N_("Settled")),
    (EntryStatus.CANCELLED, N_("Cancelled")),
)
_FIELDS = ("from", "to", "type", "status")


@dataclass
class StatementFilters:
    values: dict[str, str]
    """What the form showed, as typed (kept in the fields, the links and the CSV)."""
    first_day: date | None = None
    last_day: date | None = None
    kind: EntryKind | None = None
    status: EntryStatus | None = None
    errors: FormErrors = field(default_factory=FormErrors)

    @property
    def since(self) -> datetime | None:
        """Midnight of the first day in Brasília, as UTC."""
        return _midnight(self.first_day) if self.first_day else None

    @property
    def until(self) -> datetime | None:
        """The last instant of the last day in Brasília, as UTC (the service's bound is inclusive)."""
        return (
            _midnight(self.last_day + timedelta(days=1)) - timedelta(microseconds=1)
            if self.last_day
            else None
        )

    def query(self, **extra: str) -> str:
        """The filters (and `extra`, e.g. a cursor) as a query string, the empty ones left out."""
        pairs = {**{name: self.values[name] for name in _FIELDS if self.values.get(name)}, **extra}
        return urlencode(pairs)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BRASILIA).astimezone(UTC)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse(params: QueryParams) -> StatementFilters:
    """Read the form; a day that is not a date, or a range that ends before it starts, is a sentence next to
    its field (and the filter is left out), an unknown kind or status reads as "any"."""
    values = {name: params.get(name, "").strip()[:20] for name in _FIELDS}
    filters = StatementFilters(values=values)
    for name in ("from", "to"):
        if values[name] and _day(values[name]) is None:
            filters.errors.add(name, N_("Enter a date like 31/12/2026."))
    filters.first_day, filters.last_day = _day(values["from"]), _day(values["to"])
    if filters.first_day and filters.last_day and filters.last_day < filters.first_day:
        filters.errors.add("to", N_("The end date must be on or after the start date."))
        filters.last_day = None
    filters.kind = next((kind for kind, _ in KINDS if kind == values["type"]), None)
    filters.status = next((status for status, _ in STATUSES if status == values["status"]), None)
    return filters
