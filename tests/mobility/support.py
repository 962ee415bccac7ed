"""Helpers for the mobility tests: passengers, approved drivers with a fresh position, rides over HTTP."""

from __future__ import annotations

import asyncio
import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from laura.mobility.people.validation import _cnh_check_digits
from tests.helpers import auth_headers, random_cpf, staff_headers

PAULISTA = (-23.5614, -46.6559)  # MASP, Av. Paulista
IBIRAPUERA = (-23.5874, -46.6576)


def random_cnh() -> str:
    while True:
        body = "".join(random.choice(string.digits) for _ in range(9))
        if body != body[0] * 9:
            return body + _cnh_check_digits(body)


def random_plate() -> str:
    letters = "".join(random.choice(string.ascii_uppercase) for _ in range(3))
    return f"{letters}{random.randint(0, 9)}{random.choice(string.ascii_uppercase)}{random.randint(10, 99)}"


def driver_body(**overrides) -> dict:
    vehicle = {
        "licensePlate": random_plate(),
        "brand": "Toyota",
        "model": "Corolla",
        "year": datetime.now(UTC).year - 2,
        "category": "standard",
        **overrides.pop("vehicle", {}),
    }
    return {
        "fullName": "Diego Rocha",
        "cpf": random_cpf(),
        "cnhNumber": random_cnh(),
        "pixKey": f"{uuid.uuid4()}",
        "vehicle": vehicle,
        **overrides,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class DriverHandle:
    user: dict
    headers: dict
    id: str

    async def locate(self, client: httpx.AsyncClient, lat: float, lon: float, **extra) -> httpx.Response:
        body = {"lat": lat, "lon": lon, "recordedAt": now_iso(), **extra}
        return await client.post(f"/drivers/{self.id}/location", json=body, headers=self.headers)


async def admin(app, client: httpx.AsyncClient) -> dict:
    return await staff_headers(app, client, role="admin")


async def passenger(client: httpx.AsyncClient) -> tuple[dict, dict]:
    return await auth_headers(client, user_type="passenger", cpf=random_cpf())


async def driver(
    client: httpx.AsyncClient,
    admin_headers: dict,
    *,
    at: tuple[float, float] | None = PAULISTA,
    category: str = "standard",
    approve: bool = True,
    online: bool = True,
) -> DriverHandle:
    """A driver registered over HTTP, approved by the admin, online and located at `at`."""
    user, headers = await auth_headers(client, user_type="driver")
    created = await client.post("/drivers", json=driver_body(vehicle={"category": category}), headers=headers)
    assert created.status_code == 201, created.text
    handle = DriverHandle(user, headers, created.json()["id"])
    if approve:
        approved = await client.post(f"/admin/drivers/{handle.id}/approve", headers=admin_headers)
        assert approved.status_code == 200, approved.text
    if online:
        went = await client.post(f"/drivers/{handle.id}/online", json={"online": True}, headers=headers)
        assert went.status_code == 200, went.text
    if at is not None:
        located = await handle.locate(client, *at)
        assert located.status_code == 200, located.text
    return handle


async def drivers(client: httpx.AsyncClient, admin_headers: dict, count: int, **kwargs) -> list[DriverHandle]:
    """`count` drivers made concurrently, each a few metres apart around the given point."""
    base = kwargs.pop("at", PAULISTA)

    async def one(i: int) -> DriverHandle:
        at = (base[0] + (i % 10) * 0.0001, base[1] + (i // 10) * 0.0001)
        return await driver(client, admin_headers, at=at, **kwargs)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def request_ride(
    client: httpx.AsyncClient, headers: dict, pickup=PAULISTA, dropoff=IBIRAPUERA, category: str = "standard"
) -> httpx.Response:
    body = {
        "pickup": {"lat": pickup[0], "lon": pickup[1]},
        "dropoff": {"lat": dropoff[0], "lon": dropoff[1]},
        "category": category,
    }
    return await client.post("/rides", json=body, headers=headers)


async def accept(client: httpx.AsyncClient, handle: DriverHandle, ride_id: str, key: str | None = None):
    headers = {**handle.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post(f"/rides/{ride_id}/accept", headers=headers)
