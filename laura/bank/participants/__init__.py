"""The participants of the Brazilian payment system (COMPE code, ISPB, name)."""

from laura.bank.participants.directory import Participant, all_participants, find_by_compe, find_by_ispb

__all__ = ["Participant", "all_participants", "find_by_compe", "find_by_ispb"]
