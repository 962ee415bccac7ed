"""What is printed on a card: the holder's name as embossing allows it, and the expiry.

Embossers print 26 characters of A-Z and spaces (ISO/IEC 7813's name field is 2-26), so accents are
stripped and, for a long name, middle names become initials, then the name is cut. A physical card
expires at the end of its expiry month in Brasília, where the card is issued: the network's check
compares `expires_at` with the moment of the purchase.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, time, timedelta

from laura.bank.transfers.calendar import BRASILIA

HOLDER_NAME_MAX = 26


def holder_name(name: str) -> str:
    """'João da Silva' -> 'JOAO DA SILVA'; a long one 'MARIA A C DE SOUZA SANTOS' before being cut."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalpha() else " " for c in plain.upper()).split()
    for i in range(1, len(words) - 1):
        if len(" ".join(words)) <= HOLDER_NAME_MAX:
            break
        words[i] = words[i][0]
    return " ".join(words)[:HOLDER_NAME_MAX].rstrip() or "CLIENTE LAURA"


def expiry_of(at: datetime) -> str:
    """MM/YY of the instant's Brasília month."""
    return at.astimezone(BRASILIA).strftime("%m/%y")


def end_of_month(year: int, month: int) -> datetime:
    """The last instant of that Brasília month, in UTC."""
    first_of_next = datetime(year + month // 12, month % 12 + 1, 1)
    return datetime.combine(first_of_next.date(), time(0), tzinfo=BRASILIA).astimezone(UTC) - timedelta(
        microseconds=1
    )


def physical_expiry(issued_at: datetime, validity_years: int) -> tuple[str, datetime]:
    """(MM/YY, expires_at) of a physical card issued now: the same month, `validity_years` on."""
    local = issued_at.astimezone(BRASILIA)
    expires_at = end_of_month(local.year + validity_years, local.month)
    return expiry_of(expires_at), expires_at
