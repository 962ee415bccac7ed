"""Request bodies the sandbox accepts, with Efí's Portuguese wire names; unknown Efí fields are ignored."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

Money = Annotated[str, Field(pattern=r"^\d{1,10}\.\d{2}$")]
PixKey = Annotated[str, Field(min_length=1, max_length=77)]


class Calendario(BaseModel):
    expiracao: int = Field(86400, gt=0)


class Devedor(BaseModel):
    nome: str = Field(min_length=1, max_length=200)
    cpf: str | None = Field(None, pattern=r"^\d{11}$")
    cnpj: str | None = Field(None, pattern=r"^\d{14}$")

    @model_validator(mode="after")
    def _one_document(self) -> Devedor:
        if (self.cpf is None) == (self.cnpj is None):
            raise ValueError("devedor needs exactly one of cpf or cnpj")
        return self


class Valor(BaseModel):
    original: Money


class CobRequest(BaseModel):
    calendario: Calendario = Field(default_factory=Calendario)
    devedor: Devedor | None = None
    valor: Valor
    chave: PixKey
    solicitacaoPagador: str | None = Field(None, max_length=140)


class CobPatch(BaseModel):
    status: Literal["REMOVIDA_PELO_USUARIO_RECEBEDOR"]


class WebhookRequest(BaseModel):
    webhookUrl: str = Field(pattern=r"^https?://\S+$", max_length=2048)


class Pagador(BaseModel):
    chave: PixKey
    infoPagador: str | None = Field(None, max_length=140)


class Favorecido(BaseModel):
    chave: PixKey


class SendRequest(BaseModel):
    valor: Money
    pagador: Pagador
    favorecido: Favorecido


class Payer(BaseModel):
    nome: str = Field(min_length=1, max_length=200)
    cpf: str | None = Field(None, pattern=r"^\d{11}$")
    cnpj: str | None = Field(None, pattern=r"^\d{14}$")


class PayRequest(BaseModel):
    """`POST /sandbox/cob/{txid}/pay`: `valor` defaults to the charge's; another one is accepted on
    purpose, so the product's amount checks can be exercised."""

    valor: Money | None = None
    pagador: Payer | None = None
    infoPagador: str | None = Field(None, max_length=140)


class SettleRequest(BaseModel):
    status: Literal["REALIZADO", "NAO_REALIZADO"]
    motivo: str | None = Field(None, max_length=140)


class ClockAdvance(BaseModel):
    seconds: float = Field(gt=0, le=10 * 365 * 86400)
