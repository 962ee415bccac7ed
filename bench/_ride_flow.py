"""The people and rides bench/ride_payments.py pays for: drivers and passengers loaded by SQL, rides taken to
IN_PROGRESS over the real API, and each passenger's WebSocket, which notes when each event arrives.

Only the payment is timed; what is here prepares it the way the product does (the ride requested,
offered, accepted, the driver arrived and the trip started, all over HTTP).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import httpx
from _common import DRIVER_COLUMNS
from websockets.asyncio.client import ClientConnection, connect

from laura.core.security import hash_password
from laura.mobility.matching.geo import cell_of
from laura.mobility.matching.service import h3_int

PASSWORD = "bench-ride-payments-2026"
ORIGIN = (-23.5614, -46.6559)
"""Av. Paulista: the drivers stand on a grid from here, 0.005 degrees (about 500 m) apart."""
TRIP = (-0.02, -0.002)
"""Every trip goes about 2.2 km south of its pickup."""
RIDE_SETTINGS = {
    "LAURA_ACCESS_TOKEN_TTL_SECONDS": "7200",
    "LAURA_RIDE_OFFER_BATCH_SIZE": "1",
    "LAURA_RIDE_OFFER_TTL_SECONDS": "3600",
    "LAURA_MOBILITY_LOCATION_MAX_AGE_SECONDS": "86400",
}
"""What the ride benches run the app with: tokens outlast the run, one offer per request (to the nearest
driver, which the bench reads back), offers and the seeded positions never go stale."""


@dataclass(frozen=True)
class People:
    driver_ids: list[uuid.UUID]
    driver_emails: list[str]
    passenger_emails: list[str]
    spots: list[tuple[float, float]]
    """Where each driver stands (a pickup there is offered to that driver first)."""


async def seed_people(url: str, pairs: int) -> People:
    """`pairs` approved, online, located drivers (each with a vehicle) and `pairs` passengers, one password."""
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    driver_emails = [f"driver-{n}@bench.example" for n in range(pairs)]
    passenger_emails = [f"rider-{n}@bench.example" for n in range(pairs)]
    driver_users = [uuid.uuid4() for _ in range(pairs)]
    passenger_users = [uuid.uuid4() for _ in range(pairs)]
    ids = [uuid.uuid4() for _ in range(pairs)]
    side = max(1, int(pairs**0.5))
    spots = [(ORIGIN[0] + (n % side) * 0.005, ORIGIN[1] + (n // side) * 0.005) for n in range(pairs)]
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "users",
            records=[
                (u, e, password_hash, "Bench Driver", "driver") for u, e in zip(driver_users, driver_emails)
            ]
            + [
                (u, e, password_hash, "Bench Rider", "passenger")
                for u, e in zip(passenger_users, passenger_emails)
            ],
            columns=["id", "email", "password_hash", "name", "role"],
        )
        await conn.copy_records_to_table(
            "passengers",
            records=[(uuid.uuid4(), u, "Bench Rider") for u in passenger_users],
            columns=["id", "user_id", "full_name"],
        )
        await conn.copy_records_to_table(
            "drivers",
            records=[
                (
                    d,
                    u,
                    "Bench Driver",
                    f"{n:011d}",
                    f"{n:011d}",
                    "bench@bench.example",
                    "EMAIL",
                    "APPROVED",
                    True,
                )
                for n, (d, u) in enumerate(zip(ids, driver_users))
            ],
            columns=DRIVER_COLUMNS,
        )
        await conn.copy_records_to_table(
            "vehicles",
            records=[
                (uuid.uuid4(), d, f"BRP{n:04d}", "Toyota", "Corolla", now.year - 1, "standard")
                for n, d in enumerate(ids)
            ],
            columns=["id", "driver_id", "license_plate", "brand", "model", "year", "category"],
        )
        await conn.copy_records_to_table(
            "driver_locations",
            records=[(d, "standard", h3_int(cell_of(*p)), p[0], p[1], now, True) for d, p in zip(ids, spots)],
            columns=["driver_id", "category", "h3_cell", "lat", "lon", "recorded_at", "available"],
        )
    finally:
        await conn.close()
    return People(ids, driver_emails, passenger_emails, spots)


async def login_all(http: httpx.AsyncClient, emails: list[str]) -> list[str]:
    """Each user's access token (argon2 makes a login cost ~0.2 s of CPU here: 4 at a time)."""
    gate = asyncio.Semaphore(4)

    async def one(email: str) -> str:
        async with gate:
            answer = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
            answer.raise_for_status()
            return str(answer.json()["accessToken"])

    return list(await asyncio.gather(*(one(e) for e in emails)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Sockets:
    """One `/ws` connection per passenger; `arrival(type, ride)` resolves to when that event's frame was
    read (`time.perf_counter()` and `time.time()`), whether it came before or after the call."""

    connections: list[ClientConnection] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    arrivals: dict[tuple[str, str], asyncio.Future[tuple[float, float]]] = field(default_factory=dict)

    def arrival(self, type: str, ride_id: str) -> asyncio.Future[tuple[float, float]]:
        key = (type, ride_id)
        if key not in self.arrivals:
            self.arrivals[key] = asyncio.get_running_loop().create_future()
        return self.arrivals[key]

    async def open(self, port: int, tokens: list[str]) -> None:
        gate = asyncio.Semaphore(16)

        async def one(token: str) -> ClientConnection:
            async with gate:
                return await connect(
                    f"ws://127.0.0.1:{port}/ws",
                    subprotocols=["bearer", token],
                    max_queue=None,  # type: ignore[list-item]
                )

        self.connections = list(await asyncio.gather(*(one(t) for t in tokens)))
        self.readers = [asyncio.create_task(self._read(c)) for c in self.connections]

    async def _read(self, connection: ClientConnection) -> None:
        async for message in connection:
            seen = (time.perf_counter(), time.time())
            frame = json.loads(message)
            ride_id = (frame.get("data") or {}).get("rideId")
            if ride_id is not None:
                future = self.arrival(frame["type"], str(ride_id))
                if not future.done():
                    future.set_result(seen)

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)


@dataclass(frozen=True)
class ReadyRide:
    """A ride IN_PROGRESS: its id, its driver's and its passenger's headers."""

    id: str
    driver: dict[str, str]
    rider: dict[str, str]


async def ride_in_progress(
    http: httpx.AsyncClient,
    conn: asyncpg.Pool,
    rider: dict[str, str],
    pickup: tuple[float, float],
    drivers: dict[uuid.UUID, dict[str, str]],
) -> ReadyRide:
    """Request a ride at `pickup`; the driver it was offered to (one offer per batch) accepts, arrives and
    starts the trip."""
    trip = {
        "pickup": {"lat": pickup[0], "lon": pickup[1]},
        "dropoff": {"lat": pickup[0] + TRIP[0], "lon": pickup[1] + TRIP[1]},
        "category": "standard",
    }
    created = await http.post("/rides", json=trip, headers=rider)
    created.raise_for_status()
    ride = created.json()["id"]
    offered = await conn.fetchval("SELECT driver_id FROM ride_offers WHERE ride_id = $1", uuid.UUID(ride))
    if offered is None:
        raise RuntimeError(f"ride {ride} was offered to no driver: {created.json()['status']}")
    driver = drivers[offered]
    accepted = await http.post(
        f"/rides/{ride}/accept", headers={**driver, "Idempotency-Key": uuid.uuid4().hex}
    )
    accepted.raise_for_status()
    for step in ("arrived", "start"):
        (await http.post(f"/rides/{ride}/{step}", headers=driver)).raise_for_status()
    return ReadyRide(ride, driver, rider)
