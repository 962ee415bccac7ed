"""The Pix keys directory over HTTP: own CPF/phone only, generated EVP, one account per key, five per account."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text

from tests.helpers import auth_headers, random_cpf


async def _add(client, headers, type_, key=None, **extra):
    body = {"type": type_} if key is None else {"type": type_, "key": key}
    return await client.post("/api/pix-keys", json=body, headers={**headers, **extra})


async def test_register_list_and_delete_own_keys(app, client):
    cpf = random_cpf()
    _, headers = await auth_headers(client, cpf=cpf, phone="+5511987654321")
    formatted_cpf = f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
    created = [
        await _add(client, headers, "CPF", formatted_cpf),
        await _add(client, headers, "PHONE", "(11) 98765-4321"),
        await _add(client, headers, "EMAIL", "Maria.Silva@Example.com"),
        await _add(client, headers, "EVP"),
    ]
    assert [r.status_code for r in created] == [201] * 4, [r.text for r in created]
    keys = [r.json()["key"] for r in created]
    assert keys[:3] == [cpf, "+5511987654321", "maria.silva@example.com"]
    assert str(uuid.UUID(keys[3])) == keys[3]
    listed = await client.get("/api/pix-keys", headers=headers)
    assert listed.status_code == 200 and [k["key"] for k in listed.json()] == keys
    deleted = await client.delete(f"/api/pix-keys/{created[2].json()['id']}", headers=headers)
    assert deleted.status_code == 204
    assert [k["type"] for k in (await client.get("/api/pix-keys", headers=headers)).json()] == [
        "CPF",
        "PHONE",
        "EVP",
    ]
    async with app.state.db.engine.connect() as conn:
        actions = (
            await conn.execute(text("SELECT action FROM audit_logs WHERE resource_type = 'pix_key'"))
        ).all()
    assert sorted(a.action for a in actions) == ["PIX_KEY_DELETED"] + ["PIX_KEY_REGISTERED"] * 4


async def test_cpf_and_phone_must_be_the_customers_own(client):
    _, headers = await auth_headers(client, cpf=random_cpf(), phone="+5511987654321")
    other_cpf = await _add(client, headers, "CPF", random_cpf())
    assert other_cpf.status_code == 422 and other_cpf.json()["error"] == "PIX_KEY_NOT_OWNED"
    other_phone = await _add(client, headers, "PHONE", "+5521999998888")
    assert other_phone.status_code == 422 and other_phone.json()["error"] == "PIX_KEY_NOT_OWNED"
    _, no_docs = await auth_headers(client)
    assert (await _add(client, no_docs, "CPF", random_cpf())).status_code == 422


async def test_invalid_keys_and_shapes(client):
    _, headers = await auth_headers(client)
    bad = await _add(client, headers, "EMAIL", "not-an-email")
    assert bad.status_code == 400 and bad.json()["error"] == "INVALID_PIX_KEY"
    assert (await _add(client, headers, "EVP", str(uuid.uuid4()))).status_code == 422
    assert (await _add(client, headers, "EMAIL")).status_code == 422
    assert (await _add(client, headers, "IBAN", "x")).status_code == 422


async def test_a_key_belongs_to_one_account_in_the_bank(client):
    _, first = await auth_headers(client)
    _, second = await auth_headers(client)
    assert (await _add(client, first, "EMAIL", "shared@example.com")).status_code == 201
    taken = await _add(client, second, "EMAIL", "SHARED@example.com")
    assert taken.status_code == 409 and taken.json()["error"] == "PIX_KEY_IN_USE"
    again = await _add(client, first, "EMAIL", "shared@example.com")
    assert again.status_code == 409


async def test_five_keys_per_account_even_concurrently(client):
    _, headers = await auth_headers(client)
    responses = await asyncio.gather(*(_add(client, headers, "EVP") for _ in range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [422] * 3, statuses
    assert all(r.json()["error"] == "PIX_KEY_LIMIT_REACHED" for r in responses if r.status_code == 422)
    assert len((await client.get("/api/pix-keys", headers=headers)).json()) == 5


async def test_another_customers_key_is_404_and_idempotent_register(client):
    _, owner = await auth_headers(client)
    _, other = await auth_headers(client)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await _add(client, owner, "EVP", **key)
    replay = await _add(client, owner, "EVP", **key)
    assert first.status_code == replay.status_code == 201 and first.json() == replay.json()
    key_id = first.json()["id"]
    assert (await client.delete(f"/api/pix-keys/{key_id}", headers=other)).status_code == 404
    assert (await client.delete(f"/api/pix-keys/{uuid.uuid4()}", headers=owner)).status_code == 404
    assert len((await client.get("/api/pix-keys", headers=owner)).json()) == 1
    assert (await client.get("/api/pix-keys")).status_code == 401
