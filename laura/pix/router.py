"""Pix routes: the PSP's webhook (`POST /webhooks/efi/pix`) and a charge for its owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from laura.core.db import SessionDep
from laura.core.statement import DatabaseDep
from laura.identity.deps import CurrentUser
from laura.pix import confirmation, intake, service, webhook_auth
from laura.pix.errors import ChargeNotFound, WebhookPayloadInvalid, WebhookUnauthorized
from laura.pix.metrics import WEBHOOK_DELIVERIES
from laura.pix.psp import PspError, PspUnavailable
from laura.pix.schemas import ChargeOut, WebhookAck

router = APIRouter(tags=["pix"])

Txid = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{26,35}$")]


async def _webhook_sender(request: Request) -> webhook_auth.AuthMethod:
    """Refuse (401, nothing stored) any delivery that is neither HMAC- nor certificate-authenticated."""
    method = webhook_auth.authenticate(
        request.app.state.settings,
        secret=request.app.state.webhook_secret,
        hmac_param=request.query_params.get("hmac"),
        client_verify=request.headers.get("x-ssl-client-verify"),
        client_fingerprint=request.headers.get("x-ssl-client-fingerprint"),
        peer=request.client.host if request.client else None,
    )
    if method is None:
        WEBHOOK_DELIVERIES.labels("rejected").inc()
        raise WebhookUnauthorized()
    return method


WebhookSender = Annotated[webhook_auth.AuthMethod, Depends(_webhook_sender)]


@router.post(
    "/webhooks/efi/pix",
    response_model=WebhookAck,
    responses={
        WebhookUnauthorized.status: {"description": WebhookUnauthorized.message},
        WebhookPayloadInvalid.status: {"description": WebhookPayloadInvalid.message},
        PspError.status: {"description": "The PSP refused to confirm the Pix: deliver again later"},
        PspUnavailable.status: {"description": "The PSP could not confirm the Pix: deliver again later"},
    },
)
async def efi_pix_webhook(request: Request, sender: WebhookSender, db: DatabaseDep) -> WebhookAck:
    """Efí's Pix notifications (received Pix and outcomes of sent ones), each applied once.

    Authenticated by `?hmac=<LAURA_PSP_WEBHOOK_SECRET>` or a verified client certificate. A received Pix is
    applied only once the PSP confirms it (`LAURA_PIX_WEBHOOK_CONFIRM`). A duplicate answers 200 and
    changes nothing."""
    settings = request.app.state.settings
    confirm = confirmation.required(settings.pix_webhook_confirm, auth=sender)
    result = await intake.receive_delivery(
        db, body=await request.body(), auth=sender, confirm_with=request.app.state.psp if confirm else None
    )
    return WebhookAck(outcome=result.outcome, pix=result.pix_count)


@router.get(
    "/pix/charges/{txid}",
    response_model=ChargeOut,
    responses={ChargeNotFound.status: {"description": ChargeNotFound.message}},
)
async def get_charge(txid: Txid, user: CurrentUser, session: SessionDep) -> ChargeOut:
    """One of the caller's Pix charges (deposit, ride payment): status, copy-and-paste code and QR. Read
    on the primary, not the replica: a client asks for the charge it has just created, then polls for the
    payment the webhook has just recorded; a lagging replica would answer 404, then PENDING."""
    return ChargeOut.model_validate(await service.get_owned_charge(session, txid=txid, owner_id=user.id))
