"""The message catalogues: every text of the web app is in each language's .po, Portuguese translates
each one, and the compiled .mo the app reads says what the .po says (`make messages` was run)."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from laura.web.i18n import LOCALE_DIR, LOCALES

WEB = LOCALE_DIR.parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> set[str]:
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = extract_from_dir(str(WEB), METHODS, keywords=keywords, options_map=OPTIONS)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_every_text_is_catalogued_translated_and_compiled() -> None:
    texts = _extracted()
    assert "Sign in" in texts and "E-mail or password is incorrect." in texts
    for locale in LOCALES:
        folder = LOCALE_DIR / locale / "LC_MESSAGES"
        with (folder / "messages.po").open("rb") as po_file:
            po = {m.id: m.string for m in read_po(po_file) if m.id}
        with (folder / "messages.mo").open("rb") as mo_file:
            mo = {m.id: m.string for m in read_mo(mo_file) if m.id and m.string}
        assert texts <= set(po), f"{locale}: run `make messages` for {sorted(texts - set(po))}"
        assert mo == {k: v for k, v in po.items() if v}, f"{locale}: the .mo is stale; run `make messages`"
        if locale == "pt_BR":
            assert not [k for k, v in po.items() if not v], "pt_BR: untranslated texts"
