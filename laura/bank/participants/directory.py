"""Who is who in the Brazilian payment system: COMPE code, ISPB and name of each participant.

A TED names its destination bank by COMPE code (or ISPB), and a boleto's first three digits are the
issuing bank's COMPE code; both need the name to show the customer. The list ships as package data
(`data/participants.csv`) with the main banks and payment institutions, and is loaded once.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Participant:
    """One participant: `compe` is the 3-digit bank code, `ispb` the 8-digit STR identifier."""

    compe: str
    ispb: str
    name: str


@dataclass(frozen=True, slots=True)
class _Directory:
    participants: tuple[Participant, ...]
    by_compe: Mapping[str, Participant]
    by_ispb: Mapping[str, Participant]


@functools.cache
def _directory() -> _Directory:
    source = resources.files("laura.bank.participants").joinpath("data", "participants.csv")
    with resources.as_file(source) as path, path.open(encoding="utf-8", newline="") as handle:
        rows = [Participant(row["compe"], row["ispb"], row["name"]) for row in csv.DictReader(handle)]
    participants = tuple(sorted(rows, key=lambda p: p.compe))
    return _Directory(
        participants=participants,
        by_compe=MappingProxyType({p.compe: p for p in participants}),
        by_ispb=MappingProxyType({p.ispb: p for p in participants}),
    )


def _normalize(code: str, width: int) -> str | None:
    code = (code or "").strip()
    if not code.isascii() or not code.isdigit() or len(code) > width:
        return None
    return code.zfill(width)


def all_participants() -> tuple[Participant, ...]:
    """Every known participant, ordered by COMPE code (for pickers and seeds)."""
    return _directory().participants


def find_by_compe(code: str) -> Participant | None:
    """The participant with this COMPE code ("1" and "001" alike), or None when unknown."""
    normalized = _normalize(code, 3)
    return _directory().by_compe.get(normalized) if normalized else None


def find_by_ispb(ispb: str) -> Participant | None:
    """The participant with this ISPB (leading zeros optional), or None when unknown."""
    normalized = _normalize(ispb, 8)
    return _directory().by_ispb.get(normalized) if normalized else None
