"""What a statement line is, for the customer: its kind (which product moved the money, from the ledger
reason) and its status (a posting is done; a hold is pending until it is posted, voided or expired).

The statement's `type` and `status` filters (API and web) are these two, so a line is filtered by exactly
what the customer sees on it."""

from __future__ import annotations

from enum import StrEnum

from laura.ledger import service as ledger


class EntryKind(StrEnum):
    """A statement line's product; each is the set of ledger reasons that start with its prefixes."""

    P2P = "P2P"
    PIX = "PIX"
    TED = "TED"
    BILL = "BILL"
    CARD = "CARD"
    DEPOSIT = "DEPOSIT"


_PREFIXES: dict[EntryKind, tuple[str, ...]] = {
    EntryKind.P2P: ("P2P_",),
    EntryKind.PIX: ("PIX_",),
    EntryKind.TED: ("TED_",),
    EntryKind.BILL: ("BILL_",),
    EntryKind.CARD: ("CARD_",),
    EntryKind.DEPOSIT: ("DEPOSIT", "DEMO_"),
}


class EntryStatus(StrEnum):
    """COMPLETED: a posting. PENDING: money held (a TED until it settles, a card authorization). SETTLED: a
    hold since posted (its posting is its own COMPLETED line). CANCELLED: a hold voided or expired, the money
    released."""

    COMPLETED = "COMPLETED"
    PENDING = "PENDING"
    SETTLED = "SETTLED"
    CANCELLED = "CANCELLED"


_HOLD_STATUSES = {"pending": EntryStatus.PENDING, "posted": EntryStatus.SETTLED}


def kind_of(reason: str) -> EntryKind | None:
    for kind, prefixes in _PREFIXES.items():
        if reason.startswith(prefixes):
            return kind
    return None


def status_of(row: ledger.StatementRow) -> EntryStatus:
    if not row.pending:
        return EntryStatus.COMPLETED
    return _HOLD_STATUSES.get(row.hold_status or "pending", EntryStatus.CANCELLED)


def matches(row: ledger.StatementRow, kind: EntryKind | None, status: EntryStatus | None) -> bool:
    """Whether a ledger row passes the statement's `type` and `status` filters (None: any)."""
    return (kind is None or kind_of(row.reason) is kind) and (status is None or status_of(row) is status)
