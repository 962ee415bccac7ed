"""Applying what the PSP tells us, once: Pix received into our charges and outcomes of Pix we sent.

One path for both sources. A webhook delivery and reconciliation (which reads the PSP when a webhook never
came) reach the same database functions and the same `settle_send`:

- received Pix: row lock on the charge, then the insert of its `financial_events` row (unique e2eId)
  decides, in one database call (`pix_apply_received`, sql/intake.sql). Inserted: the charge becomes PAID
  and its purpose's effect (a SQL function, see `laura.pix.handlers`) runs, in the same statement.
  Already there: a duplicate, nothing changes. A Pix we cannot match (no txid, unknown txid) or must not
  apply (amount differs, charge no longer ACTIVE) is recorded as `unmatched` / `flagged` for ops.
- sent Pix: row lock on the send; only a PROCESSING send moves (to DONE or FAILED), and its handler runs.

A webhook's received Pix reach the database only once the PSP has confirmed them (`laura.pix.confirmation`),
unless the delivery is trusted as it is; reconciliation needs no confirmation, as it read them from the PSP.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from laura.audit.service import statement_context
from laura.core.db import Database, after_commit
from laura.core.money import to_cents
from laura.core.statement import statement_committed
from laura.pix import confirmation
from laura.pix.errors import WebhookPayloadInvalid
from laura.pix.handlers import paid_hook, send_handlers
from laura.pix.metrics import PIX_CHARGES, WEBHOOK_DELIVERIES, WEBHOOKS_MISSED, count_after_commit
from laura.pix.models import PaidCharge, PixChargeStatus, PixSend, PixSendStatus
from laura.pix.outcomes import ReceivedPixOutcome
from laura.pix.psp import EfiClient, ReceivedPix, SentPix, SentPixStatus
from laura.pix.repository import Delivery, PixRepository, Received, ingest_delivery_statement, paid_charge

log = structlog.get_logger(__name__)

Source = Literal["webhook", "reconciliation", "psp_answer", "internal"]
Outcome = Literal["applied", "duplicate", "unmatched", "flagged", "pending"]
DeliveryOutcome = Literal["applied", "duplicate", "unmatched", "unconfirmed"]

SENT = "pix.sent"


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one webhook delivery amounted to (`outcome` is the metric's label)."""

    outcome: DeliveryOutcome
    pix_count: int


async def receive_delivery(
    db: Database, *, body: bytes, auth: str, confirm_with: EfiClient | None = None
) -> DeliveryResult:
    """Store an authenticated delivery and apply every Pix in it.

    With `confirm_with`, received Pix are first confirmed with that PSP, outside any transaction, and only
    those it confirms are applied (`laura.pix.confirmation`); a PSP that cannot answer raises before
    anything is stored.

    A delivery of received Pix (nearly all of them) is one autocommit statement: the delivery is stored and
    each Pix applied with its purpose's effect by `pix_ingest_delivery`. Outcomes of our sends settle
    through Python handlers, so a delivery holding any runs in a transaction instead. An identical delivery
    already stored is a duplicate at once. An unreadable one is kept, with the reason, and refused with
    `WebhookPayloadInvalid`.
    """
    delivery, sent = _read(body, auth)
    unconfirmed = 0
    if confirm_with is not None and delivery.received:
        kept = await confirmation.confirmed(confirm_with, delivery.received)
        unconfirmed = len(delivery.received) - len(kept)
        delivery = replace(delivery, received=kept)
    if sent:
        async with db.unit_of_work() as session:
            return await _ingest_with_sends(session, delivery, sent, unconfirmed)
    rows = await ingest_delivery_statement(db, delivery)
    if rows[0]["delivery_id"] is None:
        WEBHOOK_DELIVERIES.labels("duplicate").inc()
        return DeliveryResult("duplicate", 0)
    if delivery.error is not None:
        WEBHOOK_DELIVERIES.labels("rejected").inc()
        log.warning("pix.webhook.unreadable", delivery_id=rows[0]["delivery_id"], reason=delivery.error)
        raise WebhookPayloadInvalid(details={"reason": delivery.error})
    outcomes, paid = _received_outcomes(delivery.received, rows[1:])
    if paid:
        await _after_paid(paid, source="webhook")()
    outcome = _delivery_outcome(outcomes, unconfirmed)
    WEBHOOK_DELIVERIES.labels(outcome).inc()
    return DeliveryResult(outcome, len(outcomes) + unconfirmed)


async def _ingest_with_sends(
    session: AsyncSession, delivery: Delivery, sent: list[SentPix], unconfirmed: int
) -> DeliveryResult:
    rows = await PixRepository(session).ingest_delivery(delivery)
    delivery_id = rows[0]["delivery_id"]
    if delivery_id is None:
        count_after_commit(session, WEBHOOK_DELIVERIES, "duplicate")
        return DeliveryResult("duplicate", 0)
    outcomes, paid = _received_outcomes(delivery.received, rows[1:])
    if paid:
        after_commit(session, _after_paid(paid, source="webhook"))
    for item in sorted(sent, key=lambda s: s.id_envio):
        outcomes.append(await settle_send(session, item, source="webhook", delivery_id=delivery_id))
    outcome = _delivery_outcome(outcomes, unconfirmed)
    count_after_commit(session, WEBHOOK_DELIVERIES, outcome)
    return DeliveryResult(outcome, len(outcomes) + unconfirmed)


def _read(body: bytes, auth: str) -> tuple[Delivery, list[SentPix]]:
    """The delivery as `pix_ingest_delivery` stores it (an unreadable one with its error and no Pix), and the
    outcomes of sends it holds. Received Pix go in (txid, e2eId) order, so that concurrent deliveries lock
    the charges of the same Pix in one order."""
    try:
        received, sent = parse_notification(body)
        error = None
    except ValueError as exc:
        received, sent, error = [], [], str(exc)
    received.sort(key=lambda p: (p.txid or "", p.end_to_end_id))
    delivery = Delivery(
        sha256=hashlib.sha256(body).hexdigest(),
        body=body,
        auth=auth,
        pix_count=len(received) + len(sent),
        error=error,
        received=[_received(pix) for pix in received],
        context=statement_context(),
    )
    return delivery, sent


def _received_outcomes(
    received: Sequence[Received], rows: Sequence[asyncpg.Record]
) -> tuple[list[Outcome], list[PaidCharge]]:
    """What the database decided for each received Pix, and the charges they paid."""
    outcomes: list[Outcome] = []
    paid: list[PaidCharge] = []
    for pix, row in zip(received, rows, strict=True):
        outcomes.append(row["outcome"])
        if row["outcome"] == ReceivedPixOutcome.APPLIED:
            paid.append(paid_charge(row))
        elif row["outcome"] != ReceivedPixOutcome.DUPLICATE:
            log.warning("pix.received.not_applied", e2e_id=pix.e2e_id, txid=pix.txid, reason=row["reason"])
    return outcomes, paid


def _after_paid(charges: list[PaidCharge], *, source: Source) -> Callable[[], Awaitable[None]]:
    """What follows the commit of paid charges: their count, the relay woken for the events their effects
    wrote, and each purpose's hook; a Pix that only reconciliation found is counted as a missed webhook.

    A hook that fails is logged and the answer stands: the money is committed, and a 500 would only make
    the PSP send again what is now a duplicate (a Redis outage would turn every deposit into retries)."""

    async def work() -> None:
        statement_committed()
        for charge in charges:
            PIX_CHARGES.labels(charge.purpose, PixChargeStatus.PAID).inc()
            if source == "reconciliation":
                WEBHOOKS_MISSED.inc()
                log.warning("pix.webhook.missed", e2e_id=charge.e2e_id, txid=charge.txid)
            hook = paid_hook(charge.purpose)
            if hook is not None:
                try:
                    await hook(charge)
                except Exception:
                    log.exception("pix.paid_hook.failed", purpose=charge.purpose, txid=charge.txid)

    return work


def _delivery_outcome(outcomes: list[Outcome], unconfirmed: int) -> DeliveryOutcome:
    if "applied" in outcomes:
        return "applied"
    if unconfirmed:
        return "unconfirmed"
    if "unmatched" in outcomes or "flagged" in outcomes or not outcomes:
        return "unmatched"
    return "duplicate"


def parse_notification(body: bytes) -> tuple[list[ReceivedPix], list[SentPix]]:
    """Efí's `{"pix": [...]}`: received Pix, and outcomes of sends (`tipo: SOLICITACAO` or with
    `gnExtras.idEnvio`). A body without `pix` (Efí's test call on registration) holds none.
    Raises ValueError when unreadable (amounts included: whole cents only; texts: no NUL)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("not JSON") from exc
    if b"\\u0000" in body:  # the only way JSON spells a NUL, which PostgreSQL text cannot hold
        raise ValueError("a text holds the NUL character (U+0000)")
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


async def apply_received_pix(session: AsyncSession, pix: ReceivedPix, *, source: Source) -> Outcome:
    """Count a received Pix once, in the caller's transaction: its charge becomes PAID and its purpose's
    effect runs, or it is recorded for ops; a Pix already recorded changes nothing."""
    received = _received(pix)
    row = await PixRepository(session).apply_received(
        received, source=source, delivery_id=None, context=statement_context()
    )
    outcomes, paid = _received_outcomes([received], [row])
    if paid:
        after_commit(session, _after_paid(paid, source=source))
    return outcomes[0]


def _received(pix: ReceivedPix) -> Received:
    return Received(
        txid=pix.txid,
        e2e_id=pix.end_to_end_id,
        amount_cents=to_cents(pix.amount),
        occurred_at=pix.paid_at,
        payload=_received_payload(pix),
    )


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
