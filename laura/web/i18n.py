"""The page's language (pt-BR by default, English on `?lang=en` or its cookie), the message catalogues
(Babel, laura/web/locale) and how money and dates read in each language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("pt_BR", "en")
DEFAULT_LOCALE = "pt_BR"
LANG_COOKIE = "laura_lang"
BRASILIA = ZoneInfo("America/Sao_Paulo")
_ALIASES = {"pt": "pt_BR", "pt-br": "pt_BR", "pt_br": "pt_BR", "en": "en", "en-us": "en", "en_us": "en"}


def N_(message: str) -> str:
    """Mark a text for the catalogue where it is defined; it is translated when a page renders it."""
    return message


def known_locale(value: str | None) -> str | None:
    """`pt-BR`, `pt_BR`, `en`... as one of LOCALES, or None for anything else."""
    return _ALIASES.get((value or "").strip().lower())


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue (messages.mo) of one language, read once per process (a missing one reads as
    the English message ids)."""
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def money(amount: Decimal, locale: str) -> str:
    """`R$ 1.234,56` in Portuguese (with a no-break space), `R$1,234.56` in English."""
    return format_currency(amount, "BRL", locale=locale)


def when(moment: datetime, locale: str) -> str:
    """A moment as read in Brasília (the bank's day), in the page's language."""
    return format_datetime(moment, "short", tzinfo=BRASILIA, locale=locale)


def day(value: date, locale: str) -> str:
    """A calendar day (a due date, a payment date: already a Brasília day), in the page's language."""
    return format_date(value, "medium", locale=locale)


def html_lang(locale: str) -> str:
    return locale.replace("_", "-")
