"""Uploads: the type is what the bytes are (a renamed executable is refused whatever its name and header),
the size limit keeps nothing past it, and a file is read by its owner or by staff on a ticket only."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest

from laura.bank.files.tasks import sweep_orphans
from laura.core.files import FileStore
from laura.core.jobs import JobRuntime, bind_runtime
from tests.bank.support_tickets.support import PNG, count, open_ticket, upload
from tests.helpers import auth_headers, staff_headers

LIMIT = 4096
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"files_max_bytes": LIMIT})


def _blobs(settings) -> list[Path]:
    root = settings.data_dir / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("content", "name", "declared", "sniffed"),
    [
        (PNG, "foto.png", "image/png", "image/png"),
        (JPEG, "foto.jpeg", "application/octet-stream", "image/jpeg"),
        (PDF, "extrato", "text/plain", "application/pdf"),
        ("Olá, suporte!\r\n\tTudo certo.\n".encode(), "nota.txt", "text/plain", "text/plain"),
    ],
    ids=["png", "jpeg", "pdf", "text"],
)
async def test_allowed_types_are_kept_as_their_content_says(
    app, client, settings, content, name, declared, sniffed
):
    _, headers = await auth_headers(client)
    response = await upload(client, headers, content, name, declared)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["size"], body["contentType"]) == (name, len(content), sniffed)
    assert _blobs(settings) == [settings.data_dir / "files" / _sharded(content)]

    read = await client.get(f"/api/files/{body['id']}", headers=headers)
    assert read.status_code == 200 and read.content == content
    assert read.headers["content-type"].startswith(sniffed)
    assert read.headers["content-disposition"].startswith("attachment")
    assert read.headers["x-content-type-options"] == "nosniff"


def _sharded(content: bytes) -> Path:
    digest = hashlib.sha256(content).hexdigest()
    return Path(digest[:2], digest[2:4], digest)


@pytest.mark.parametrize(
    "content",
    [ELF, PE, b"text with a NUL \x00 inside", b"\xc3\x28 not utf-8", b"bell \x07", b""],
    ids=["elf", "pe", "nul", "bad-utf8", "control", "empty"],
)
async def test_other_content_is_415_whatever_its_name_and_header(app, client, settings, content):
    _, headers = await auth_headers(client)
    response = await upload(client, headers, content, "x.png", "image/png")
    assert response.status_code == 415 and response.json()["error"] == "UNSUPPORTED_FILE_TYPE"
    assert await count(app.state.db, "files") == 0
    assert _blobs(settings) == []


async def test_past_the_limit_is_413_and_nothing_is_kept(app, client, settings):
    _, headers = await auth_headers(client)
    at_limit = await upload(client, headers, b"a" * LIMIT, "limite.txt", "text/plain")
    assert at_limit.status_code == 201
    over = await upload(client, headers, PNG + b"\x00" * LIMIT, "grande.png")
    assert over.status_code == 413 and over.json()["error"] == "FILE_TOO_LARGE"
    way_over = await upload(client, headers, PNG + b"\x00" * (LIMIT + 70_000), "enorme.png")
    assert way_over.status_code == 413  # refused before its body is read
    assert await count(app.state.db, "files") == 1
    assert len(_blobs(settings)) == 1


async def test_the_same_content_is_stored_once(app, client, settings):
    _, first = await auth_headers(client)
    _, second = await auth_headers(client)
    a = (await upload(client, first, PNG, "a.png")).json()
    b = (await upload(client, second, PNG, "b.png")).json()
    assert a["id"] != b["id"] and len(_blobs(settings)) == 1
    assert (await client.get(f"/api/files/{b['id']}", headers=second)).content == PNG


async def test_a_file_whose_bytes_were_lost_is_410_not_a_500(app, client, settings):
    _, headers = await auth_headers(client)
    body = (await upload(client, headers, PNG, "a.png")).json()
    [blob] = _blobs(settings)
    blob.unlink()
    lost = await client.get(f"/api/files/{body['id']}", headers=headers)
    assert lost.status_code == 410 and lost.json()["error"] == "FILE_CONTENT_MISSING"


async def test_the_sweep_removes_old_blobs_no_row_names_and_keeps_the_rest(app, client, settings):
    _, headers = await auth_headers(client)
    kept = (await upload(client, headers, PNG, "kept.png")).json()
    store = FileStore(settings.data_dir / "files")
    orphan, fresh_orphan = store.path("ab" * 32), store.path("cd" * 32)
    leftover = store.root / "tmp" / "tmpabandoned"
    for path in (orphan, fresh_orphan, leftover):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"bytes of an upload that rolled back")
    long_ago = time.time() - 2 * 3600
    for path in (*_blobs(settings), orphan, leftover):
        if path != fresh_orphan:
            os.utime(path, (long_ago, long_ago))

    with bind_runtime(JobRuntime(db=app.state.db, settings=settings)):
        assert await sweep_orphans(timestamp=0) == 2

    assert not orphan.exists() and not leftover.exists() and fresh_orphan.exists()
    assert (await client.get(f"/api/files/{kept['id']}", headers=headers)).content == PNG


async def test_a_path_in_the_name_is_dropped(client):
    _, headers = await auth_headers(client)
    body = (await upload(client, headers, PNG, "../../etc/passwd.png")).json()
    assert body["name"] == "passwd.png"


async def test_who_may_read_a_file(app, client):
    _, owner = await auth_headers(client)
    _, stranger = await auth_headers(client)
    staff = await staff_headers(app, client, "staff")
    loose = (await upload(client, owner, PNG, "solto.png")).json()
    attached = (await upload(client, owner, JPEG, "anexo.jpeg")).json()
    await open_ticket(client, owner, attachments=[attached["id"]])

    def read(file_id: str, headers: dict):
        return client.get(f"/api/files/{file_id}", headers=headers)

    assert (await read(attached["id"], staff)).status_code == 200  # staff, on a ticket it is attached to
    for refused in (
        await read(loose["id"], staff),  # staff, but on no ticket
        await read(loose["id"], stranger),
        await read(attached["id"], stranger),
        await read(str(uuid.uuid4()), owner),
    ):
        assert refused.status_code == 404 and refused.json()["error"] == "FILE_NOT_FOUND"
    assert (await client.get(f"/api/files/{loose['id']}")).status_code == 401


def test_clean_name():
    from laura.bank.files.service import clean_name

    assert clean_name("C:\\Users\\ana\\foto.png") == "foto.png"
    assert clean_name('a"b\x07.txt') == "a_b_.txt"
    assert clean_name("  ") == clean_name(None) == "file"
    assert len(clean_name("x" * 300)) == 255
