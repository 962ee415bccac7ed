"""The Efí-compatible routes: OAuth2 token, charges (`/v2/cob`), received Pix (`/v2/pix`), webhooks, sends
(`/v3/gn/pix`)."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from laura.pix.psp.ids import ID_ENVIO_PATTERN, TXID_PATTERN
from laura.pix.sandbox.schemas import CobPatch, CobRequest, SendRequest, WebhookRequest
from laura.pix.sandbox.service import Sandbox
from laura.pix.sandbox.state import SandboxError, iso


async def get_sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]


async def require_token(request: Request, sandbox: SandboxDep) -> None:
    """Every API route needs a valid, unexpired bearer token from `POST /oauth/token`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not sandbox.state.token_valid(token.strip()):
        raise SandboxError(
            401,
            "nao_autorizado",
            "Token de acesso ausente, inválido ou expirado",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


oauth_router = APIRouter()
router = APIRouter(dependencies=[Depends(require_token)])


@oauth_router.post("/oauth/token")
async def issue_token(request: Request, sandbox: SandboxDep) -> dict[str, Any]:
    """OAuth2 client credentials: HTTP Basic `client_id:client_secret`, body `{"grant_type": ...}`."""
    if not _basic_auth_matches(request.headers.get("authorization", ""), sandbox):
        raise SandboxError(401, "invalid_client", "Credenciais inválidas ou inativas")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
        raise SandboxError(400, "unsupported_grant_type", "grant_type deve ser client_credentials")
    return sandbox.state.issue_token()


def _basic_auth_matches(header: str, sandbox: Sandbox) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        client_id, _, client_secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    config = sandbox.config
    return secrets.compare_digest(client_id.encode(), config.client_id.encode()) & secrets.compare_digest(
        client_secret.encode(), config.client_secret.encode()
    )


# -- charges ------------------------------------------------------------------------------------------


def _txid(txid: str) -> str:
    if not TXID_PATTERN.match(txid):
        raise SandboxError(400, "txid_invalido", "O txid deve ter de 26 a 35 caracteres alfanuméricos")
    return txid


@router.put("/v2/cob/{txid}")
async def put_charge(txid: str, body: CobRequest, sandbox: SandboxDep) -> JSONResponse:
    """Create a charge; the same body again returns it (200), a different one is refused (409)."""
    record, created = sandbox.state.create_charge(_txid(txid), body)
    return JSONResponse(record.to_wire(), status_code=201 if created else 200)


@router.get("/v2/cob/{txid}")
async def get_charge(txid: str, sandbox: SandboxDep) -> dict[str, Any]:
    return sandbox.state.get_charge(_txid(txid)).to_wire()


@router.patch("/v2/cob/{txid}")
async def patch_charge(txid: str, body: CobPatch, sandbox: SandboxDep) -> dict[str, Any]:
    """Only the removal of a charge is emulated (`status: REMOVIDA_PELO_USUARIO_RECEBEDOR`)."""
    return sandbox.state.remove_charge(_txid(txid)).to_wire()


@router.get("/v2/pix/{e2e_id}")
async def get_received_pix(e2e_id: str, sandbox: SandboxDep) -> dict[str, Any]:
    """A Pix received into a charge, by its e2eId."""
    return sandbox.state.get_received(e2e_id)


# -- webhooks -----------------------------------------------------------------------------------------


@router.put("/v2/webhook/{chave}")
async def put_webhook(chave: str, body: WebhookRequest, sandbox: SandboxDep) -> dict[str, Any]:
    record = sandbox.state.set_webhook(chave, body.webhookUrl)
    return {"webhookUrl": record.url}


@router.get("/v2/webhook/{chave}")
async def get_webhook(chave: str, sandbox: SandboxDep) -> dict[str, Any]:
    record = sandbox.state.get_webhook(chave)
    return {"webhookUrl": record.url, "chave": record.key, "criacao": iso(record.created_at)}


@router.delete("/v2/webhook/{chave}", status_code=204)
async def delete_webhook(chave: str, sandbox: SandboxDep) -> Response:
    sandbox.state.delete_webhook(chave)
    return Response(status_code=204)


# -- sending Pix --------------------------------------------------------------------------------------


@router.put("/v3/gn/pix/{id_envio}")
async def put_send(id_envio: str, body: SendRequest, sandbox: SandboxDep) -> JSONResponse:
    """Send a Pix: answers `EM_PROCESSAMENTO`; the same idEnvio and body again returns it as it is now."""
    if not ID_ENVIO_PATTERN.match(id_envio):
        raise SandboxError(400, "id_envio_invalido", "O idEnvio deve ter de 1 a 35 caracteres alfanuméricos")
    record, created = sandbox.send(id_envio, body)
    return JSONResponse(record.created_wire(), status_code=201 if created else 200)


@router.get("/v2/gn/pix/enviados/id-envio/{id_envio}")
async def get_send_by_id(id_envio: str, sandbox: SandboxDep) -> dict[str, Any]:
    return sandbox.state.get_send(id_envio).to_wire()


@router.get("/v2/gn/pix/enviados/{e2e_id}")
async def get_send_by_e2e(e2e_id: str, sandbox: SandboxDep) -> dict[str, Any]:
    return sandbox.state.get_send_by_e2e(e2e_id).to_wire()
