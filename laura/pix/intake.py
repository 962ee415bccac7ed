"""Applying what the PSP tells us, once: Pix received into our charges and outcomes of Pix we sent.

One path for both sources. A webhook delivery and reconciliation (which reads the PSP when a webhook never
came) call the same `apply_received_pix` / `settle_send`, in the caller's transaction:

- received Pix: row lock on the charge, then the insert of its `financial_events` row (unique e2eId)
  decides, both in one database call (`pix_apply_received`, migration 0010). Inserted: the charge becomes
  PAID (same call) and the purpose's handler runs, in the same transaction. Already there: a duplicate,
  nothing changes. A Pix we cannot match (no txid, unknown txid) or must not apply (amount differs, charge
  no longer ACTIVE) is recorded as `unmatched` / `flagged` for ops.
- sent Pix: row lock on the send; only a PROCESSING send moves (to DONE or FAILED), and its handler runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.core.money import to_cents
from laura.pix.errors import WebhookPayloadInvalid
from laura.pix.handlers import pix_handler, send_handlers
from laura.pix.metrics import PIX_CHARGES, WEBHOOK_DELIVERIES, WEBHOOKS_MISSED, count_after_commit
from laura.pix.models import PixChargeStatus, PixSend, PixSendStatus
from laura.pix.psp import ReceivedPix, SentPix, SentPixStatus
from laura.pix.repository import PixRepository, Received

log = structlog.get_logger(__name__)

Source = Literal["webhook", "reconciliation", "psp_answer"]
Outcome = Literal["applied", "duplicate", "unmatched", "flagged", "pending"]

SENT = "pix.sent"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one webhook delivery amounted to (`outcome` is the metric's label)."""

    outcome: Literal["applied", "duplicate", "unmatched"]
    pix_count: int


async def ingest_delivery(session: AsyncSession, *, body: bytes, auth: str) -> DeliveryResult:
    """Store an authenticated delivery and apply every Pix in it, all in the caller's transaction.

    The delivery and its received Pix take one database call (migration 0010). An identical delivery
    already stored is a duplicate at once. An unreadable one is kept, with the reason, and refused with
    `WebhookPayloadInvalid`, which commits the record.
    """
    try:
        received, sent = parse_notification(body)
        error = None
    except ValueError as exc:
        received, sent, error = [], [], str(exc)
    received.sort(key=lambda p: (p.txid or "", p.end_to_end_id))
    rows = await PixRepository(session).ingest_delivery(
        sha256=hashlib.sha256(body).hexdigest(),
        body=body,
        auth=auth,
        pix_count=len(received) + len(sent),
        error=error,
        received=[_received(pix) for pix in received],
    )
    delivery_id = rows[0]["delivery_id"]
    if delivery_id is None:
        count_after_commit(session, WEBHOOK_DELIVERIES, "duplicate")
        return DeliveryResult("duplicate", 0)
    if error is not None:
        count_after_commit(session, WEBHOOK_DELIVERIES, "rejected")
        log.warning("pix.webhook.unreadable", delivery_id=delivery_id, reason=error)
        raise WebhookPayloadInvalid(details={"reason": error})
    outcomes = [
        await _received_outcome(session, pix, row, source="webhook")
        for pix, row in zip(received, rows[1:], strict=True)
    ]
    for item in sorted(sent, key=lambda s: s.id_envio):
        outcomes.append(await settle_send(session, item, source="webhook", delivery_id=delivery_id))
    outcome = _delivery_outcome(outcomes)
    count_after_commit(session, WEBHOOK_DELIVERIES, outcome)
    return DeliveryResult(outcome, len(outcomes))


def _delivery_outcome(outcomes: list[Outcome]) -> Literal["applied", "duplicate", "unmatched"]:
    if "applied" in outcomes:
        return "applied"
    if "unmatched" in outcomes or "flagged" in outcomes or not outcomes:
        return "unmatched"
    return "duplicate"


def parse_notification(body: bytes) -> tuple[list[ReceivedPix], list[SentPix]]:
    """Efí's `{"pix": [...]}`: received Pix, and outcomes of sends (`tipo: SOLICITACAO` or with
    `gnExtras.idEnvio`). A body without `pix` (Efí's test call on registration) holds none.
    Raises ValueError when unreadable (amounts included: whole cents only)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004 - ValueError means "unreadable" here
    entries = data.get("pix", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError("'pix' is not a list of objects")
    received: list[ReceivedPix] = []
    sent: list[SentPix] = []
    try:
        for entry in entries:
            extras = entry.get("gnExtras") or {}
            if entry.get("tipo") == "SOLICITACAO" or (isinstance(extras, dict) and extras.get("idEnvio")):
                sent.append(SentPix.from_wire(entry))
                to_cents(sent[-1].amount)
            else:
                received.append(ReceivedPix.from_wire(entry))
                to_cents(received[-1].amount)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"unreadable Pix entry: {type(exc).__name__}: {exc}") from exc
    return received, sent


async def apply_received_pix(
    session: AsyncSession, pix: ReceivedPix, *, source: Source, delivery_id: int | None = None
) -> Outcome:
    """Count a received Pix once: its charge becomes PAID and its purpose's handler runs, or it is
    recorded for ops; a Pix already recorded changes nothing."""
    row = await PixRepository(session).apply_received(_received(pix), source=source, delivery_id=delivery_id)
    return await _received_outcome(session, pix, row, source=source)


def _received(pix: ReceivedPix) -> Received:
    return Received(
        txid=pix.txid,
        e2e_id=pix.end_to_end_id,
        amount_cents=to_cents(pix.amount),
        occurred_at=pix.paid_at,
        payload=_received_payload(pix),
    )


async def _received_outcome(
    session: AsyncSession, pix: ReceivedPix, row: Mapping[str, Any], *, source: Source
) -> Outcome:
    """What the database decided for a received Pix (the verdict, the event and the charge's change are in
    `pix_apply_received`, under the charge's row lock); an applied one now runs its purpose's handler."""
    outcome: Outcome = row["outcome"]
    if outcome == "duplicate":
        return outcome
    if outcome != "applied":
        log.warning("pix.received.not_applied", e2e_id=pix.end_to_end_id, txid=pix.txid, reason=row["reason"])
        return outcome
    charge = PixRepository(session).charge_from_row(row)
    assert charge is not None
    await pix_handler(charge.purpose)(session, charge, pix)
    count_after_commit(session, PIX_CHARGES, charge.purpose, PixChargeStatus.PAID)
    if source == "reconciliation":
        count_after_commit(session, WEBHOOKS_MISSED)
        log.warning("pix.webhook.missed", e2e_id=pix.end_to_end_id, txid=pix.txid)
    return "applied"


def _received_payload(pix: ReceivedPix) -> dict[str, Any]:
    return {
        "endToEndId": pix.end_to_end_id,
        "txid": pix.txid,
        "valor": f"{pix.amount:.2f}",
        "horario": pix.paid_at.isoformat(),
        "chave": pix.key,
        "infoPagador": pix.payer_info,
    }


async def settle_send(
    session: AsyncSession, sent: SentPix, *, source: Source, delivery_id: int | None = None
) -> Outcome:
    """Settle one of our sends from the PSP's word (`REALIZADO` / `NAO_REALIZADO`), once."""
    if sent.status is SentPixStatus.EM_PROCESSAMENTO:
        return "pending"
    repository = PixRepository(session)
    send = await repository.send_for_update(sent.id_envio) if sent.id_envio else None
    if send is None:
        recorded = await repository.insert_event(
            external_id=sent.e2e_id,
            kind=SENT,
            status="unmatched",
            reason="unknown_id_envio",
            id_envio=sent.id_envio or None,
            amount_cents=to_cents(sent.amount),
            source=source,
            delivery_id=delivery_id,
            occurred_at=sent.settled_at or datetime.now(UTC),
            payload=_sent_payload(sent),
        )
        log.warning("pix.sent.unknown", e2e_id=sent.e2e_id, id_envio=sent.id_envio)
        return "unmatched" if recorded else "duplicate"
    if send.status != PixSendStatus.PROCESSING:
        return "duplicate"
    settled_at = sent.settled_at or datetime.now(UTC)
    await repository.insert_event(
        external_id=sent.e2e_id,
        kind=SENT,
        status="applied",
        id_envio=send.id_envio,
        purpose=send.purpose,
        entity_id=send.entity_id,
        amount_cents=send.amount_cents,
        source=source,
        delivery_id=delivery_id,
        occurred_at=settled_at,
        payload=_sent_payload(sent),
    )
    send.e2e_id = sent.e2e_id
    await _finish(
        session, send, done=sent.status is SentPixStatus.REALIZADO, error=sent.failure_reason, at=settled_at
    )
    return "applied"


async def fail_send(session: AsyncSession, *, id_envio: str, error: str, at: datetime) -> None:
    """The PSP refused the send outright (no e2eId): it fails once, through `on_failed`."""
    send = await PixRepository(session).send_for_update(id_envio)
    if send is not None and send.status == PixSendStatus.PROCESSING:
        await _finish(session, send, done=False, error=error, at=at)


async def _finish(
    session: AsyncSession, send: PixSend, *, done: bool, error: str | None, at: datetime
) -> None:
    send.status = PixSendStatus.DONE if done else PixSendStatus.FAILED
    send.error = None if done else (error or "The PSP did not complete the Pix")
    send.settled_at = at
    await session.flush()
    handlers = send_handlers(send.purpose)
    await (handlers.on_done if done else handlers.on_failed)(session, send)
    log.info("pix.sent.settled", id_envio=send.id_envio, status=send.status, purpose=send.purpose)


def _sent_payload(sent: SentPix) -> dict[str, Any]:
    return {
        "endToEndId": sent.e2e_id,
        "idEnvio": sent.id_envio,
        "valor": f"{sent.amount:.2f}",
        "status": sent.status.value,
        "favorecido": sent.payee_key,
        "motivo": sent.failure_reason,
    }
