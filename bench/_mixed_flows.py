"""What each arrival of the mixed day does over the real API, as the apps and the outside world do it: a
rider's ride from the estimate to the Pix paid at the PSP (with the driver's location reports between the
steps), a customer's Pix out, Pix in (a deposit charge paid from another bank), P2P and boleto, and the
card network's authorization and capture.

Only what the platform answers is timed (per route, by `RoundRobin`); what happens after the answer (the
send job, the PSP's webhooks) is counted from the database at the end of the run.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
from _bank_people import CARD_EXPIRY
from _mixed_client import RoundRobin, ok
from _mixed_mix import CAPTURE_SHARE, Compression, reports_per_ride
from _ride_flow import TRIP

from laura.bank.bills.barcode import build_bank_line
from laura.bank.transfers.calendar import BRASILIA

CARD_API_KEY = "bench-mixed-network-key"
OUTSIDE_KEYS = 500
"""How many keys at other banks the customers' Pix go to."""
PAYMENT_WAIT_S = 60
"""How long a passenger's app waits for the ride's charge before giving up (counted, not raised)."""


@dataclass
class City:
    """Who is in the city and who is free right now; `outcomes` counts how each arrival ended."""

    api: RoundRobin
    psp: RoundRobin
    pool: asyncpg.Pool
    compression: Compression
    drivers: dict[uuid.UUID, dict[str, str]]
    spots: dict[uuid.UUID, tuple[float, float]]
    customers: list[tuple[uuid.UUID, dict[str, str]]]
    cards: list[tuple[str, str]]
    rng: random.Random
    idle_drivers: asyncio.Queue[uuid.UUID] = field(default_factory=asyncio.Queue)
    idle_riders: asyncio.Queue[dict[str, str]] = field(default_factory=asyncio.Queue)
    outcomes: Counter[str] = field(default_factory=Counter)

    def amount(self, low: int, high: int) -> float:
        """An amount in whole cents between `low` and `high` reais (JSON numbers, as the apps send)."""
        return float(Decimal(self.rng.randint(low * 100, high * 100)) / 100)

    def customer(self) -> tuple[uuid.UUID, dict[str, str]]:
        return self.rng.choice(self.customers)


def _keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


async def report(city: City, driver: uuid.UUID, count: int, every_s: float) -> None:
    """`count` location reports, one every `every_s` whatever the answers' latency (a phone's timer: a
    slow answer does not delay the next report), a few metres around the driver's spot (no move long
    enough for the fraud rules to judge, and the driver stays where the bench expects them)."""
    sent = []
    for _ in range(count):
        await asyncio.sleep(every_s)
        sent.append(asyncio.create_task(_report_once(city, driver)))
    await asyncio.gather(*sent)


async def _report_once(city: City, driver: uuid.UUID) -> None:
    lat, lon = city.spots[driver]
    body = {
        "lat": lat + city.rng.uniform(-3e-5, 3e-5),
        "lon": lon + city.rng.uniform(-3e-5, 3e-5),
        "speed": 8.0,
        "heading": 180.0,
        "recordedAt": datetime.now(UTC).isoformat(),
    }
    path = f"/drivers/{driver}/location"
    await city.api.call("POST /drivers/{id}/location", path, json=body, headers=city.drivers[driver])


async def ride(city: City) -> None:
    """A free rider asks for a ride where a free driver stands, then pays it; both are freed after."""
    rider = await city.idle_riders.get()
    reserved = await city.idle_drivers.get()
    try:
        city.outcomes[await _ride(city, rider, city.spots[reserved])] += 1
    finally:
        city.idle_drivers.put_nowait(reserved)
        city.idle_riders.put_nowait(rider)


async def _ride(city: City, rider: dict[str, str], pickup: tuple[float, float]) -> str:
    api = city.api
    trip = {
        "pickup": {"lat": pickup[0], "lon": pickup[1]},
        "dropoff": {"lat": pickup[0] + TRIP[0], "lon": pickup[1] + TRIP[1]},
        "category": "standard",
    }
    await api.call("POST /rides/estimate", json=trip, headers=rider)
    created = await api.call("POST /rides", json=trip, headers=rider)
    if not ok(created):
        return "ride_not_created"
    ride_id = created.json()["id"]  # type: ignore[union-attr]
    offered = await city.pool.fetchval(
        "SELECT driver_id FROM ride_offers WHERE ride_id = $1", uuid.UUID(ride_id)
    )
    if offered is None:
        await api.call("POST /rides/{id}/cancel", f"/rides/{ride_id}/cancel", json={"reason": "No driver"},
                       headers=_keyed(rider))  # fmt: skip
        return "ride_offered_to_no_driver"
    driver = city.drivers[offered]
    before, during = reports_per_ride()
    every_s = city.compression.job_s / (before + during)
    if not ok(await api.call("POST /rides/{id}/accept", f"/rides/{ride_id}/accept", headers=_keyed(driver))):
        return "ride_not_accepted"
    await report(city, offered, before, every_s)
    for step in ("arrived", "start"):
        if not ok(await api.call(f"POST /rides/{{id}}/{step}", f"/rides/{ride_id}/{step}", headers=driver)):
            return f"ride_not_{step}"
    await report(city, offered, during, every_s)
    if not ok(await api.call("POST /rides/{id}/complete", f"/rides/{ride_id}/complete", headers=driver)):
        return "ride_not_completed"
    txid = await _charge(city, ride_id, rider)
    if txid is None:
        return "ride_completed_without_charge"
    paid = await city.psp.call("POST /sandbox/cob/{txid}/pay", f"/sandbox/cob/{txid}/pay")
    return "ride_paid_at_psp" if ok(paid) else "ride_psp_refused_payment"


async def _charge(city: City, ride_id: str, rider: dict[str, str]) -> str | None:
    """The passenger's app reading the payment until the charge job has made its Pix charge."""
    deadline = time.monotonic() + PAYMENT_WAIT_S
    while time.monotonic() < deadline:
        answer = await city.api.call("GET /rides/{id}/payment", f"/rides/{ride_id}/payment", headers=rider)
        if ok(answer) and answer.json().get("txid"):  # type: ignore[union-attr]
            return str(answer.json()["txid"])  # type: ignore[union-attr]
        await asyncio.sleep(0.2)
    return None


async def pix_out(city: City) -> None:
    """A Pix to a key at another bank: held now, sent by the worker's job, settled by the PSP's webhook."""
    _, headers = city.customer()
    await city.api.call("GET /api/accounts/me", headers=headers)
    body = {
        "pixKey": f"pessoa-{city.rng.randrange(OUTSIDE_KEYS)}@outrobanco.example",
        "amount": city.amount(10, 200),
    }
    sent = await city.api.call("POST /api/transfers/pix", json=body, headers=_keyed(headers))
    city.outcomes["pix_out_accepted" if ok(sent) else "pix_out_refused"] += 1


async def pix_in(city: City) -> None:
    """A deposit charge the customer creates and pays from another bank (the sandbox's payer)."""
    _, headers = city.customer()
    await city.api.call("GET /api/accounts/me", headers=headers)
    created = await city.api.call(
        "POST /api/deposits/pix", json={"amount": city.amount(20, 500)}, headers=_keyed(headers)
    )
    if not ok(created):
        city.outcomes["pix_in_not_created"] += 1
        return
    txid = created.json()["txid"]  # type: ignore[union-attr]
    paid = await city.psp.call("POST /sandbox/cob/{txid}/pay", f"/sandbox/cob/{txid}/pay")
    city.outcomes["pix_in_paid_at_psp" if ok(paid) else "pix_in_psp_refused"] += 1


async def p2p(city: City) -> None:
    sender, headers = city.customer()
    recipient = sender
    while recipient == sender:
        recipient, _ = city.customer()
    await city.api.call("GET /api/accounts/me", headers=headers)
    body = {"recipientUserId": str(recipient), "amount": city.amount(5, 300)}
    sent = await city.api.call("POST /api/transfers/p2p", json=body, headers=_keyed(headers))
    city.outcomes["p2p_done" if ok(sent) else "p2p_refused"] += 1


async def boleto(city: City) -> None:
    """A bank slip due in ten days: scanned and validated, then paid."""
    _, headers = city.customer()
    amount = Decimal(city.rng.randint(5000, 40000)) / 100
    due = datetime.now(BRASILIA).date() + timedelta(days=10)
    line = build_bank_line("341", amount, due, f"{city.rng.getrandbits(80) % 10**25:025d}")
    body = {"barcode": line, "amount": float(amount)}
    await city.api.call("GET /api/accounts/me", headers=headers)
    await city.api.call("POST /api/bills/validate", json=body, headers=headers)
    paid = await city.api.call("POST /api/bills/pay", json=body, headers=_keyed(headers))
    city.outcomes["boleto_paid" if ok(paid) else "boleto_refused"] += 1


async def card(city: City) -> None:
    """The card network's authorization of a purchase and, for most, its capture."""
    number, cvv = city.rng.choice(city.cards)
    body = {
        "cardNumber": number, "expiry": CARD_EXPIRY, "cvv": cvv, "amount": city.amount(5, 250), "currency": "BRL",
        "merchant": {"name": "Padaria Bench", "mcc": "5812", "city": "Sao Paulo", "country": "BR"},
        "idempotencyKey": uuid.uuid4().hex,
    }  # fmt: skip
    network = {"X-Api-Key": CARD_API_KEY}
    answer = await city.api.call("POST /api/card-network/authorizations", json=body, headers=network)
    if not ok(answer) or not answer.json()["approved"]:  # type: ignore[union-attr]
        city.outcomes["card_declined_or_failed"] += 1
        return
    city.outcomes["card_authorized"] += 1
    if city.rng.random() < CAPTURE_SHARE:
        authorization = answer.json()["authorizationId"]  # type: ignore[union-attr]
        path = f"/api/card-network/authorizations/{authorization}/capture"
        captured = await city.api.call("POST /api/card-network/authorizations/{id}/capture", path, json={},
                                       headers=network)  # fmt: skip
        city.outcomes["card_captured" if ok(captured) else "card_capture_failed"] += 1


FLOWS = {"ride": ride, "pix_out": pix_out, "pix_in": pix_in, "p2p": p2p, "boleto": boleto, "card": card}
