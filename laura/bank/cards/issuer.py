"""What issuing a card needs — the data keys and the settings' card policy — and where a session finds it.

A customer's physical card is issued by the account-opening hook, inside the registration's transaction,
which is handed a session and nothing else (the route, the demo seed and the CLI all register through it).
So the process's `CardIssuer` rides on its database's sessions (`session.info`, set once per `Database`),
and the routes read the same object from `app.state.card_issuer`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.cards.crypto import CardMacs
from laura.bank.cards.keys import CardKeyring, open_keyring
from laura.bank.cards.models import CardBrand
from laura.core.db import Database
from laura.core.money import to_cents
from laura.core.security import FieldCipher, load_or_create_secret
from laura.settings import Settings

_SESSION_INFO = "laura.bank.cards.issuer"


@dataclass(frozen=True)
class CardPolicy:
    brand: CardBrand
    bin: str
    daily_limit_cents: int
    monthly_limit_cents: int
    max_virtual: int
    validity_years: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CardPolicy:
        return cls(
            brand=CardBrand(settings.card_brand),
            bin=settings.card_bins[settings.card_brand],
            daily_limit_cents=to_cents(settings.card_daily_limit),
            monthly_limit_cents=to_cents(settings.card_monthly_limit),
            max_virtual=settings.card_max_virtual,
            validity_years=settings.card_validity_years,
        )


@dataclass(frozen=True)
class CardIssuer:
    keyring: CardKeyring
    policy: CardPolicy


async def open_issuer(
    db: Database, settings: Settings, *, master: FieldCipher | None = None, macs: CardMacs | None = None
) -> CardIssuer:
    """Load the data keys (creating the first) and give the issuer to every session of `db`. Without the
    app's cipher and MACs (seed, CLI), they come from the master key the settings name, as the app's do."""
    if master is None or macs is None:
        master_key = load_or_create_secret(settings.secret_key, settings.secret_key_path)
        master, macs = FieldCipher(master_key), CardMacs(master_key)
    issuer = CardIssuer(await open_keyring(db, master, macs), CardPolicy.from_settings(settings))
    db.sessionmaker.configure(info={_SESSION_INFO: issuer})
    return issuer


def issuer_of(session: AsyncSession) -> CardIssuer:
    issuer: CardIssuer | None = session.info.get(_SESSION_INFO)
    if issuer is None:
        raise RuntimeError(
            "this database has no card issuer: open_issuer(db, settings) before opening accounts"
        )
    return issuer
