"""The sandbox's memory: tokens, charges, sent Pix, webhooks and delivery attempts, with Efí's rules.

All of it lives on one event loop and nothing here awaits, so no locking is needed. The sandbox clock
is real UTC time plus an offset that `POST /sandbox/clock/advance` moves, so tests can expire tokens
and charges without waiting.
"""

from __future__ import annotations

import secrets
import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from laura.pix.brcode import SINGLE_USE, build_brcode
from laura.pix.sandbox.config import SandboxConfig
from laura.pix.sandbox.faults import Faults
from laura.pix.sandbox.schemas import CobRequest, PayRequest, SendRequest

_ALNUM = string.ascii_letters + string.digits


class SandboxError(Exception):
    """An Efí-style error answer: HTTP status plus `{"nome", "mensagem"}`."""

    def __init__(self, status: int, nome: str, mensagem: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(mensagem)
        self.status = status
        self.nome = nome
        self.mensagem = mensagem
        self.headers = headers


def iso(moment: datetime) -> str:
    """Efí's timestamp format: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


@dataclass(slots=True)
class ChargeRecord:
    txid: str
    request: dict[str, Any]
    created_at: datetime
    expires_in: int
    loc_id: int
    location: str
    amount: Decimal
    key: str
    copy_and_paste: str
    description: str | None = None
    debtor: dict[str, Any] | None = None
    status: str = "ATIVA"
    revision: int = 0
    payments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def expires_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.expires_in)

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "calendario": {"criacao": iso(self.created_at), "expiracao": self.expires_in},
            "txid": self.txid,
            "revisao": self.revision,
            "loc": {"id": self.loc_id, "location": self.location, "tipoCob": "cob"},
            "location": self.location,
            "status": self.status,
        }
        if self.debtor:
            body["devedor"] = self.debtor
        body["valor"] = {"original": money(self.amount)}
        body["chave"] = self.key
        if self.description:
            body["solicitacaoPagador"] = self.description
        body["pixCopiaECola"] = self.copy_and_paste
        if self.payments:
            body["pix"] = list(self.payments)
        return body


@dataclass(slots=True)
class SendRecord:
    id_envio: str
    request: dict[str, Any]
    e2e_id: str
    amount: Decimal
    payer_key: str
    payee_key: str
    requested_at: datetime
    planned_status: str | None
    info: str | None = None
    status: str = "EM_PROCESSAMENTO"
    settled_at: datetime | None = None
    reason: str | None = None

    def created_wire(self) -> dict[str, Any]:
        """The answer to `PUT /v3/gn/pix/{idEnvio}`."""
        return {
            "idEnvio": self.id_envio,
            "e2eId": self.e2e_id,
            "valor": money(self.amount),
            "horario": {"solicitacao": iso(self.requested_at)},
            "status": self.status,
        }

    def to_wire(self) -> dict[str, Any]:
        """The answer to `GET /v2/gn/pix/enviados/...`; `gnExtras.erro` says why it failed."""
        schedule = {"solicitacao": iso(self.requested_at)}
        if self.settled_at is not None and self.status == "REALIZADO":
            schedule["liquidacao"] = iso(self.settled_at)
        body: dict[str, Any] = {
            "endToEndId": self.e2e_id,
            "idEnvio": self.id_envio,
            "valor": money(self.amount),
            "chave": self.payer_key,
            "status": self.status,
            "horario": schedule,
            "favorecido": {"chave": self.payee_key},
        }
        if self.info:
            body["infoPagador"] = self.info
        if self.reason:
            body["gnExtras"] = {"idEnvio": self.id_envio, "erro": {"codigo": "AC03", "motivo": self.reason}}
        return body

    def webhook_entry(self) -> dict[str, Any]:
        """How Efí notifies the payer key's webhook of a send's outcome."""
        entry: dict[str, Any] = {
            "endToEndId": self.e2e_id,
            "chave": self.payer_key,
            "valor": money(self.amount),
            "horario": iso(self.settled_at or self.requested_at),
            "tipo": "SOLICITACAO",
            "status": self.status,
            "favorecido": {"chave": self.payee_key},
            "gnExtras": {"idEnvio": self.id_envio},
        }
        if self.reason:
            entry["gnExtras"]["erro"] = {"codigo": "AC03", "motivo": self.reason}
        return entry


@dataclass(slots=True)
class WebhookRecord:
    key: str
    url: str
    created_at: datetime


class SandboxState:
    """In-memory Efí: every operation validates like Efí and raises `SandboxError` when Efí would refuse."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Forget everything (the configuration stays)."""
        self.clock_offset = timedelta(0)
        self.tokens: dict[str, datetime] = {}
        self.tokens_issued = 0
        self.requests: Counter[str] = Counter()
        self.charges: dict[str, ChargeRecord] = {}
        self.received: dict[str, dict[str, Any]] = {}
        self.sends: dict[str, SendRecord] = {}
        self.sends_by_e2e: dict[str, SendRecord] = {}
        self.webhooks: dict[str, WebhookRecord] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.faults = Faults()
        self._next_loc_id = 1

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    # -- OAuth ---------------------------------------------------------------------------------------

    def issue_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.now() + timedelta(seconds=self.config.token_ttl)
        self.tokens_issued += 1
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.config.token_ttl,
            "scope": self.config.scope,
        }

    def token_valid(self, token: str) -> bool:
        expires_at = self.tokens.get(token)
        return expires_at is not None and self.now() < expires_at

    # -- charges -------------------------------------------------------------------------------------

    def create_charge(self, txid: str, request: CobRequest) -> tuple[ChargeRecord, bool]:
        """Create the charge, or return the existing one when the same body is PUT again."""
        normalized = request.model_dump(exclude_none=True)
        existing = self.charges.get(txid)
        if existing is not None:
            if existing.request != normalized:
                raise SandboxError(409, "txid_duplicado", "Já existe uma cobrança diferente com este txid")
            return existing, False
        amount = _positive(request.valor.original, "valor.original")
        loc_id = self._next_loc_id
        self._next_loc_id += 1
        location = f"{self.config.location_host}/qr/v2/{secrets.token_hex(16)}"
        record = ChargeRecord(
            txid=txid,
            request=normalized,
            created_at=self.now(),
            expires_in=request.calendario.expiracao,
            loc_id=loc_id,
            location=location,
            amount=amount,
            key=request.chave,
            copy_and_paste=build_brcode(
                merchant_name=self.config.merchant_name,
                merchant_city=self.config.merchant_city,
                location=location,
                amount=amount,
                point_of_initiation=SINGLE_USE,
            ),
            description=request.solicitacaoPagador,
            debtor=request.devedor.model_dump(exclude_none=True) if request.devedor else None,
        )
        self.charges[txid] = record
        return record, True

    def get_charge(self, txid: str) -> ChargeRecord:
        record = self.charges.get(txid)
        if record is None:
            raise SandboxError(
                404, "cobranca_nao_encontrada", "Nenhuma cobrança encontrada para o txid informado"
            )
        return record

    def remove_charge(self, txid: str) -> ChargeRecord:
        """Withdraw a charge; removing an already removed one changes nothing."""
        record = self.get_charge(txid)
        if record.status == "CONCLUIDA":
            raise SandboxError(400, "cobranca_nao_ativa", "A cobrança já foi paga e não pode ser removida")
        if record.status == "ATIVA":
            record.status = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
            record.revision += 1
        return record

    def pay_charge(self, txid: str, request: PayRequest) -> tuple[ChargeRecord, dict[str, Any]]:
        """A payer pays the charge: only an active, unexpired charge can be paid, and only once."""
        record = self.get_charge(txid)
        if record.status != "ATIVA":
            raise SandboxError(409, "cobranca_nao_ativa", f"A cobrança está {record.status}")
        if self.now() >= record.expires_at:
            raise SandboxError(409, "cobranca_expirada", "A cobrança expirou e não pode mais ser paga")
        amount = _positive(request.valor, "valor") if request.valor else record.amount
        entry: dict[str, Any] = {
            "endToEndId": self.new_e2e_id(),
            "txid": txid,
            "chave": record.key,
            "valor": money(amount),
            "horario": iso(self.now()),
        }
        if request.infoPagador:
            entry["infoPagador"] = request.infoPagador
        if request.pagador:
            entry["pagador"] = request.pagador.model_dump(exclude_none=True)
        record.payments.append(entry)
        record.status = "CONCLUIDA"
        self.received[entry["endToEndId"]] = entry
        return record, entry

    def get_received(self, e2e_id: str) -> dict[str, Any]:
        """A Pix paid into one of the charges, by its e2eId (`GET /v2/pix/{e2eId}`)."""
        entry = self.received.get(e2e_id)
        if entry is None:
            raise SandboxError(404, "pix_nao_encontrado", "Nenhum Pix recebido com o e2eId informado")
        return entry

    # -- sending Pix ---------------------------------------------------------------------------------

    def send_pix(self, id_envio: str, request: SendRequest) -> tuple[SendRecord, bool]:
        """Accept a send (idempotent on idEnvio), deciding now whether it will settle, fail or hang."""
        normalized = request.model_dump(exclude_none=True)
        existing = self.sends.get(id_envio)
        if existing is not None:
            if existing.request != normalized:
                raise SandboxError(409, "id_envio_duplicado", "Já existe um envio diferente com este idEnvio")
            return existing, False
        if self.faults.send_stuck:
            planned: str | None = None
        elif request.favorecido.chave in self.faults.send_fail_keys:
            planned = "NAO_REALIZADO"
        else:
            planned = "REALIZADO"
        record = SendRecord(
            id_envio=id_envio,
            request=normalized,
            e2e_id=self.new_e2e_id(),
            amount=_positive(request.valor, "valor"),
            payer_key=request.pagador.chave,
            payee_key=request.favorecido.chave,
            requested_at=self.now(),
            planned_status=planned,
            info=request.pagador.infoPagador,
        )
        self.sends[id_envio] = record
        self.sends_by_e2e[record.e2e_id] = record
        return record, True

    def get_send(self, id_envio: str) -> SendRecord:
        record = self.sends.get(id_envio)
        if record is None:
            raise SandboxError(404, "pix_nao_encontrado", "Nenhum Pix enviado com o idEnvio informado")
        return record

    def get_send_by_e2e(self, e2e_id: str) -> SendRecord:
        record = self.sends_by_e2e.get(e2e_id)
        if record is None:
            raise SandboxError(404, "pix_nao_encontrado", "Nenhum Pix enviado com o e2eId informado")
        return record

    def settle_send(self, id_envio: str, status: str, reason: str | None = None) -> SendRecord:
        """Move a send out of EM_PROCESSAMENTO: `REALIZADO`, or `NAO_REALIZADO` with a reason."""
        record = self.get_send(id_envio)
        if record.status != "EM_PROCESSAMENTO":
            raise SandboxError(409, "envio_ja_finalizado", f"O envio já está {record.status}")
        record.status = status
        record.settled_at = self.now()
        if status == "NAO_REALIZADO":
            record.reason = reason or "Conta do recebedor encerrada ou inexistente"
        return record

    # -- webhooks ------------------------------------------------------------------------------------

    def set_webhook(self, key: str, url: str) -> WebhookRecord:
        record = WebhookRecord(key=key, url=url, created_at=self.now())
        self.webhooks[key] = record
        return record

    def get_webhook(self, key: str) -> WebhookRecord:
        record = self.webhooks.get(key)
        if record is None:
            raise SandboxError(
                404, "webhook_nao_encontrado", "Nenhum webhook encontrado para a chave informada"
            )
        return record

    def delete_webhook(self, key: str) -> None:
        self.get_webhook(key)
        del self.webhooks[key]

    # -- ids -----------------------------------------------------------------------------------------

    def new_e2e_id(self) -> str:
        """`E` + ISPB (8 digits) + yyyyMMddHHmm + 11 alphanumerics: 32 characters."""
        suffix = "".join(secrets.choice(_ALNUM) for _ in range(11))
        return f"E{self.config.ispb}{self.now():%Y%m%d%H%M}{suffix}"


def _positive(value: str, name: str) -> Decimal:
    amount = Decimal(value)
    if amount <= 0:
        raise SandboxError(400, "valor_invalido", f"O campo {name} deve ser maior que zero")
    return amount
