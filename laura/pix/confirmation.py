"""A received Pix is confirmed with the PSP before its money is applied.

The webhook's secret only proves that the sender knew it, and it travels in a URL (the PSP's configuration,
proxy logs): with it, anyone could post a real charge's txid and amount and have it paid. So each received
Pix of a delivery is read back from the PSP (`GET /v2/pix/{e2eId}`) and kept only when the PSP knows it
with the same txid and amount; the Pix of one delivery are asked for at once (one round trip per batch).

`LAURA_PIX_WEBHOOK_CONFIRM` says when: `psp` (the default) always; `mtls` not for a delivery that came with
the PSP's client certificate, verified by our TLS terminator (Efí's production model), and always for the
others; `off` never (refused in production).

A Pix the PSP does not know, or knows otherwise, is left out: logged and counted
(`pix_webhook_unconfirmed_total{reason}`), it applies nothing, and the delivery is answered 200 so that the
PSP does not retry it for ever (a genuine Pix the PSP could not show yet is still found by reconciliation,
which reads the charge). A PSP we cannot reach raises, before anything is stored: the answer is 503 (502
when it refused our question) and the PSP delivers again later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

import structlog

from laura.core.money import from_cents
from laura.pix.metrics import WEBHOOK_UNCONFIRMED
from laura.pix.psp import EfiClient, PspError, ReceivedPix
from laura.pix.repository import Received

log = structlog.get_logger(__name__)

ConfirmMode = Literal["psp", "mtls", "off"]


class Unconfirmed(StrEnum):
    """Why a received Pix was not applied as its webhook said (the metric's `reason`)."""

    UNKNOWN_E2E_ID = "unknown_e2e_id"
    TXID_MISMATCH = "txid_mismatch"
    AMOUNT_MISMATCH = "amount_mismatch"
    PSP_UNAVAILABLE = "psp_unavailable"


def required(mode: ConfirmMode, *, auth: str) -> bool:
    """Whether the received Pix of a delivery authenticated by `auth` must be confirmed with the PSP."""
    return mode == "psp" or (mode == "mtls" and auth != "mtls")


async def confirmed(psp: EfiClient, received: Sequence[Received]) -> list[Received]:
    """The received Pix that the PSP confirms, in their order; raises when the PSP could not answer."""
    answers = await asyncio.gather(*(_ask(psp, pix.e2e_id) for pix in received), return_exceptions=True)
    failures = [answer for answer in answers if isinstance(answer, BaseException)]
    if failures:
        WEBHOOK_UNCONFIRMED.labels(Unconfirmed.PSP_UNAVAILABLE).inc(len(failures))
        log.warning("pix.webhook.confirmation_failed", pix=len(failures), error=type(failures[0]).__name__)
        raise failures[0]
    kept: list[Received] = []
    for pix, answer in zip(received, answers, strict=True):
        assert not isinstance(answer, BaseException)
        reason = _disagreement(pix, answer)
        if reason is None:
            kept.append(pix)
            continue
        WEBHOOK_UNCONFIRMED.labels(reason).inc()
        log.warning(
            "pix.webhook.unconfirmed",
            reason=reason,
            e2e_id=pix.e2e_id,
            txid=pix.txid,
            amount_cents=pix.amount_cents,
            psp_txid=answer.txid if answer else None,
            psp_amount=str(answer.amount) if answer else None,
        )
    return kept


async def _ask(psp: EfiClient, e2e_id: str) -> ReceivedPix | None:
    """The PSP's record of the Pix, or None when it knows no such Pix."""
    try:
        return await psp.get_received_pix(e2e_id)
    except PspError as exc:
        if exc.psp_status == 404:
            return None
        raise


def _disagreement(pix: Received, answer: ReceivedPix | None) -> Unconfirmed | None:
    if answer is None:
        return Unconfirmed.UNKNOWN_E2E_ID
    if answer.txid != pix.txid:
        return Unconfirmed.TXID_MISMATCH
    if answer.amount != from_cents(pix.amount_cents):
        return Unconfirmed.AMOUNT_MISMATCH
    return None
