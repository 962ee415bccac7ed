"""How a statement line shows its kind: an icon (decorative; characters every common font has, no emoji) and a label (read aloud), by the ledger
reason the bank's statement gives as the entry's `type`."""

from __future__ import annotations

from laura.web.i18n import N_

_KINDS: tuple[tuple[str, str, str], ...] = (
    ("P2P", "⇄", N_("Transfer between accounts")),
    ("PIX", "◆", N_("Pix")),
    ("TED", "⇆", N_("TED")),
    ("BILL", "▤", N_("Boleto")),
    ("CARD", "▭", N_("Card")),
    ("DEPOSIT", "+", N_("Deposit")),
    ("DEMO", "+", N_("Deposit")),
    ("RIDE", "➜", N_("Ride")),
)
_OTHER = ("•", N_("Other"))


def entry_kind(entry_type: str) -> tuple[str, str]:
    """(icon, label message id) for a statement entry's type, e.g. `P2P_TRANSFER`."""
    for prefix, icon, label in _KINDS:
        if entry_type.startswith(prefix):
            return icon, label
    return _OTHER


_STATUSES = {
    "COMPLETED": N_("Completed"),
    "PENDING": N_("Pending"),
    "SCHEDULED": N_("Scheduled"),
    "FAILED": N_("Failed"),
    "CANCELLED": N_("Cancelled"),
    "PROCESSING": N_("Processing"),
    "SETTLED": N_("Settled"),
}


def status_label(status: str) -> str:
    """A transfer's status as a message id (the template translates it); an unknown one as it is."""
    return _STATUSES.get(status, status)
