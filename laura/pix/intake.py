"""Applying what the PSP tells us, once: Pix received into our charges and outcomes of Pix we sent.

One path for both sources. A webhook delivery and reconciliation (which reads the PSP when a webhook never
came) call the same `apply_received_pix` / `settle_send`, in the caller's transaction:

- received Pix: row lock on the charge, then the insert of its `financial_events` row (unique e2eId)
  decides. Inserted: the charge becomes PAID (same statement) and the purpose's handler runs, in the same
  transaction. Already there: a duplicate, nothing changes. A Pix we cannot match (no txid, unknown txid) or must not
  apply (amount differs, charge no longer ACTIVE) is recorded as `unmatched` / `flagged` for ops.
- sent Pix: row lock on the send; only a PROCESSING send moves (to DONE or FAILED), and its handler runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from laura.core.money import to_cents
from laura.pix.errors import WebhookPayloadInvalid
from laura.pix.handlers import pix_handler, send_handlers
from laura.pix.metrics import PIX_CHARGES, WEBHOOK_DELIVERIES, WEBHOOKS_MISSED, count_after_commit
from laura.pix.models import PixCharge, PixChargeStatus, PixSend, PixSendStatus
from laura.pix.psp import ReceivedPix, SentPix, SentPixStatus
from laura.pix.repository import PixRepository

log = structlog.get_logger(__name__)

Source = Literal["webhook", "reconciliation", "psp_answer"]
Outcome = Literal["applied", "duplicate", "unmatched", "flagged", "pending"]

RECEIVED = "pix.received"
SENT = "pix.sent"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one webhook delivery amounted to (`outcome` is the metric's label)."""

    outcome: Literal["applied", "duplicate", "unmatched"]
    pix_count: int


async def ingest_delivery(session: AsyncSession, *, body: bytes, auth: str) -> DeliveryResult:
    """Store an authenticated delivery and apply every Pix in it, all in the caller's transaction.

    An identical delivery already stored is a duplicate at once (one statement). An unreadable one is
    kept, with the reason, and refused with `WebhookPayloadInvalid`, which commits the record.
    """
    try:
        received, sent = parse_notification(body)
        error = None
    except ValueError as exc:
        received, sent, error = [], [], str(exc)
    repository = PixRepository(session)
    delivery_id = await repository.insert_delivery(
        sha256=hashlib.sha256(body).hexdigest(),
        body=body,
        auth=auth,
        pix_count=len(received) + len(sent),
        error=error,
    )
    if delivery_id is None:
        count_after_commit(session, WEBHOOK_DELIVERIES, "duplicate")
        return DeliveryResult("duplicate", 0)
    if error is not None:
        count_after_commit(session, WEBHOOK_DELIVERIES, "rejected")
        log.warning("pix.webhook.unreadable", delivery_id=delivery_id, reason=error)
        raise WebhookPayloadInvalid(details={"reason": error})
    outcomes: list[Outcome] = []
    for pix in sorted(received, key=lambda p: (p.txid or "", p.end_to_end_id)):
        outcomes.append(await apply_received_pix(session, pix, source="webhook", delivery_id=delivery_id))
    for item in sorted(sent, key=lambda s: s.id_envio):
        outcomes.append(await settle_send(session, item, source="webhook", delivery_id=delivery_id))
    if "applied" in outcomes:
        outcome = "applied"
    elif "unmatched" in outcomes or "flagged" in outcomes or not outcomes:
        outcome = "unmatched"
    else:
        outcome = "duplicate"
    count_after_commit(session, WEBHOOK_DELIVERIES, outcome)
    return DeliveryResult(outcome, len(outcomes))


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
    repository = PixRepository(session)
    charge = await repository.charge_for_update(pix.txid) if pix.txid else None
    amount_cents = to_cents(pix.amount)
    status, reason = _verdict(charge, pix, amount_cents)
    event = {
        "external_id": pix.end_to_end_id,
        "kind": RECEIVED,
        "status": status,
        "reason": reason,
        "txid": pix.txid,
        "purpose": charge.purpose if charge else None,
        "entity_id": charge.entity_id if charge else None,
        "amount_cents": amount_cents,
        "source": source,
        "delivery_id": delivery_id,
        "occurred_at": pix.paid_at,
        "payload": _received_payload(pix),
    }
    if charge is None or status != "applied":
        if not await repository.insert_event(**event):
            return "duplicate"
        if charge is not None and charge.review_reason is None:
            charge.review_reason = reason
            await session.flush()
        log.warning("pix.received.not_applied", e2e_id=pix.end_to_end_id, txid=pix.txid, reason=reason)
        return status  # type: ignore[return-value]
    if not await repository.apply_received(**event):
        return "duplicate"
    # The statement changed the row; the loaded charge shows it without an UPDATE of its own.
    set_committed_value(charge, "status", PixChargeStatus.PAID.value)
    set_committed_value(charge, "paid_at", pix.paid_at)
    set_committed_value(charge, "e2e_id", pix.end_to_end_id)
    await pix_handler(charge.purpose)(session, charge, pix)
    count_after_commit(session, PIX_CHARGES, charge.purpose, PixChargeStatus.PAID)
    if source == "reconciliation":
        count_after_commit(session, WEBHOOKS_MISSED)
        log.warning("pix.webhook.missed", e2e_id=pix.end_to_end_id, txid=pix.txid)
    return "applied"


def _verdict(charge: PixCharge | None, pix: ReceivedPix, amount_cents: int) -> tuple[str, str | None]:
    if not pix.txid:
        return "unmatched", "no_txid"
    if charge is None:
        return "unmatched", "unknown_txid"
    if charge.status != PixChargeStatus.ACTIVE:
        return "flagged", "charge_not_active"
    if amount_cents != charge.amount_cents:
        return "flagged", "amount_mismatch"
    return "applied", None


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
