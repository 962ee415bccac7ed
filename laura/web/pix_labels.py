"""How the Pix pages name a key's type (the DICT's names, as message ids the templates translate)."""

from __future__ import annotations

from laura.web.i18n import N_

_KEY_TYPES = {
    "CPF": N_("CPF"),
    "CNPJ": N_("CNPJ"),
    "EMAIL": N_("E-mail"),
    "PHONE": N_("Phone"),
    "EVP": N_("Random key"),
}


def key_type(value: str) -> str:
    return _KEY_TYPES.get(value, value)
