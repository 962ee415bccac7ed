"""Support test helpers: tickets and messages over HTTP, uploads, and rows read back from the database."""

from __future__ import annotations

import json
from typing import Any

import httpx

from laura.core.db import Database
from tests.sql_support import rows, scalar

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


async def open_ticket(client: httpx.AsyncClient, headers: dict, **body: Any) -> dict:
    response = await client.post(
        "/api/support/tickets",
        json={
            "category": "CARD",
            "priority": "HIGH",
            "subject": "Cartão bloqueado",
            "description": "Meu cartão foi bloqueado sem motivo",
            **body,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def reply(
    client: httpx.AsyncClient, headers: dict, ticket_id: str, message: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/support/tickets/{ticket_id}/messages", json={"message": message, **body}, headers=headers
    )


async def move(client: httpx.AsyncClient, headers: dict, ticket_id: str, status: str) -> httpx.Response:
    return await client.post(
        f"/api/support/tickets/{ticket_id}/status", json={"status": status}, headers=headers
    )


async def upload(
    client: httpx.AsyncClient,
    headers: dict,
    content: bytes,
    name: str = "x.png",
    content_type: str = "image/png",
) -> httpx.Response:
    return await client.post("/api/files", files={"file": (name, content, content_type)}, headers=headers)


async def count(db: Database, table: str) -> int:
    return int(await scalar(db, f"SELECT count(*) FROM {table}"))


async def events(db: Database, kind: str, user_id: str) -> list[dict]:
    """The `data` of the outbox events of `kind` addressed to the user, oldest first."""
    found = await rows(
        db,
        "SELECT data::text FROM outbox WHERE type = $1 AND $2::uuid = ANY(user_ids) ORDER BY id",
        kind,
        user_id,
    )
    return [json.loads(data) for (data,) in found]


async def audit_actions(db: Database, ticket_id: str) -> list[str]:
    found = await rows(
        db, "SELECT action FROM audit_logs WHERE resource_id = $1 ORDER BY occurred_at, id", ticket_id
    )
    return [action for (action,) in found]
