"""What the PSP client returns: small frozen values with Decimal money and UTC datetimes, from Efí JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

CENT = Decimal("0.01")


class ChargeStatus(StrEnum):
    ATIVA = "ATIVA"
    CONCLUIDA = "CONCLUIDA"
    REMOVIDA_PELO_USUARIO_RECEBEDOR = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    REMOVIDA_PELO_PSP = "REMOVIDA_PELO_PSP"


class SentPixStatus(StrEnum):
    EM_PROCESSAMENTO = "EM_PROCESSAMENTO"
    REALIZADO = "REALIZADO"
    NAO_REALIZADO = "NAO_REALIZADO"


def money_to_wire(amount: Decimal) -> str:
    """Format a positive amount with exactly two decimals, refusing floats and sub-cent values."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT):
        raise ValueError(f"amount must be positive with at most two decimals: {amount}")
    return f"{amount.quantize(CENT):f}"


def money_from_wire(value: Any) -> Decimal:
    """Parse an Efí amount string ("150.00") into a Decimal."""
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"invalid amount from PSP: {value!r}") from exc


def time_from_wire(value: str) -> datetime:
    """Parse an Efí ISO 8601 timestamp (with `Z` or an offset) into an aware UTC datetime."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Debtor:
    """Who owes a charge: a name plus a CPF or a CNPJ (digits only)."""

    name: str
    cpf: str | None = None
    cnpj: str | None = None

    def to_wire(self) -> dict[str, str]:
        body = {"nome": self.name}
        if self.cpf:
            body["cpf"] = self.cpf
        if self.cnpj:
            body["cnpj"] = self.cnpj
        return body

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Debtor:
        return cls(name=data.get("nome", ""), cpf=data.get("cpf"), cnpj=data.get("cnpj"))


@dataclass(frozen=True, slots=True)
class ReceivedPix:
    """One Pix paid into a charge, as listed in `GET /v2/cob` and in webhooks."""

    end_to_end_id: str
    txid: str | None
    amount: Decimal
    paid_at: datetime
    key: str | None = None
    payer_info: str | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ReceivedPix:
        return cls(
            end_to_end_id=data["endToEndId"],
            txid=data.get("txid"),
            amount=money_from_wire(data["valor"]),
            paid_at=time_from_wire(data["horario"]),
            key=data.get("chave"),
            payer_info=data.get("infoPagador"),
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """An immediate charge (`cob`).

    Like Efí, the PSP keeps an expired charge `ATIVA`; it just can no longer be paid. So expiry is
    derived here from `created_at + expires_in`: use `is_payable()` rather than the status alone.
    """

    txid: str
    status: ChargeStatus
    amount: Decimal
    key: str
    created_at: datetime
    expires_in: int
    revision: int
    location: str | None
    pix_copy_paste: str | None
    description: str | None = None
    debtor: Debtor | None = None
    payments: tuple[ReceivedPix, ...] = ()

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.expires_in)

    def is_payable(self, now: datetime | None = None) -> bool:
        """True while the charge is active and not yet past its expiry."""
        moment = now or datetime.now(UTC)
        return self.status is ChargeStatus.ATIVA and moment < self.expires_at

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Charge:
        calendar = data.get("calendario", {})
        loc = data.get("loc") or {}
        return cls(
            txid=data["txid"],
            status=ChargeStatus(data["status"]),
            amount=money_from_wire(data["valor"]["original"]),
            key=data["chave"],
            created_at=time_from_wire(calendar["criacao"]),
            expires_in=int(calendar["expiracao"]),
            revision=int(data.get("revisao", 0)),
            location=data.get("location") or loc.get("location"),
            pix_copy_paste=data.get("pixCopiaECola"),
            description=data.get("solicitacaoPagador"),
            debtor=Debtor.from_wire(data["devedor"]) if data.get("devedor") else None,
            payments=tuple(ReceivedPix.from_wire(item) for item in data.get("pix", [])),
        )


@dataclass(frozen=True, slots=True)
class SentPix:
    """A Pix we sent (a payout): `EM_PROCESSAMENTO` until the PSP settles it or gives up."""

    id_envio: str
    e2e_id: str
    amount: Decimal
    status: SentPixStatus
    requested_at: datetime | None
    settled_at: datetime | None = None
    payer_key: str | None = None
    payee_key: str | None = None
    failure_reason: str | None = None

    @classmethod
    def from_wire(cls, data: dict[str, Any], *, id_envio: str | None = None) -> SentPix:
        """Parse both the `PUT /v3/gn/pix` answer (`e2eId`) and the `GET .../enviados` one (`endToEndId`)."""
        schedule = data.get("horario")
        if isinstance(schedule, str):
            schedule = {"solicitacao": schedule}
        schedule = schedule or {}
        extras = data.get("gnExtras") or {}
        error = extras.get("erro") or {}
        return cls(
            id_envio=data.get("idEnvio") or extras.get("idEnvio") or id_envio or "",
            e2e_id=data.get("e2eId") or data["endToEndId"],
            amount=money_from_wire(data["valor"]),
            status=SentPixStatus(data["status"]),
            requested_at=time_from_wire(schedule["solicitacao"]) if schedule.get("solicitacao") else None,
            settled_at=time_from_wire(schedule["liquidacao"]) if schedule.get("liquidacao") else None,
            payer_key=data.get("chave"),
            payee_key=(data.get("favorecido") or {}).get("chave"),
            failure_reason=error.get("motivo"),
        )


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """The URL the PSP notifies for a Pix key (it POSTs to `<url>/pix`)."""

    key: str
    url: str
