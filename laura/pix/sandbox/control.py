"""Control routes under `/sandbox/` (no OAuth): make payments happen, inject faults, inspect, reset."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body

from laura.pix.sandbox.api import SandboxDep
from laura.pix.sandbox.faults import FaultRequest
from laura.pix.sandbox.schemas import ClockAdvance, PayRequest, SettleRequest
from laura.pix.sandbox.state import iso

router = APIRouter(prefix="/sandbox")


@router.post("/cob/{txid}/pay")
async def pay_charge(
    txid: str, sandbox: SandboxDep, body: Annotated[PayRequest | None, Body()] = None
) -> dict[str, Any]:
    """A payer pays the charge: it becomes CONCLUIDA and its key's webhook is notified."""
    _, entry = sandbox.pay(txid, body or PayRequest())
    return entry


@router.post("/pix/{id_envio}/settle")
async def settle_send(id_envio: str, body: SettleRequest, sandbox: SandboxDep) -> dict[str, Any]:
    """Finish a send that is still EM_PROCESSAMENTO (e.g. one held by the `send_stuck` fault)."""
    return sandbox.settle(id_envio, body.status, body.motivo).to_wire()


@router.post("/faults")
async def add_faults(body: FaultRequest, sandbox: SandboxDep) -> dict[str, Any]:
    """Add faults (see `laura.pix.sandbox.faults`); answers the faults now in force."""
    sandbox.state.faults.apply(body)
    return sandbox.state.faults.snapshot()


@router.get("/faults")
async def list_faults(sandbox: SandboxDep) -> dict[str, Any]:
    return sandbox.state.faults.snapshot()


@router.delete("/faults")
async def clear_faults(sandbox: SandboxDep) -> dict[str, Any]:
    sandbox.state.faults.clear()
    return sandbox.state.faults.snapshot()


@router.get("/webhooks")
async def list_deliveries(sandbox: SandboxDep) -> dict[str, Any]:
    """Every webhook delivery attempt so far, oldest first."""
    return {"deliveries": list(sandbox.state.deliveries)}


@router.get("/stats")
async def stats(sandbox: SandboxDep) -> dict[str, Any]:
    """Tokens issued and API requests received per `METHOD path`, for tests."""
    return {"tokensIssued": sandbox.state.tokens_issued, "requests": dict(sandbox.state.requests)}


@router.post("/clock/advance")
async def advance_clock(body: ClockAdvance, sandbox: SandboxDep) -> dict[str, Any]:
    """Move the sandbox's clock forward, to expire tokens and charges without waiting."""
    sandbox.state.clock_offset += timedelta(seconds=body.seconds)
    return {"now": iso(sandbox.state.now())}


@router.post("/reset")
async def reset(sandbox: SandboxDep) -> dict[str, Any]:
    """Forget all charges, sends, webhooks, tokens, faults and deliveries."""
    await sandbox.reset()
    return {"reset": True}
