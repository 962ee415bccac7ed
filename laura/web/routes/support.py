"""Support: the customer's tickets, opening one with attachments (a multipart form: the CSRF token is its
first field, as asgi-csrf reads it), the conversation with a reply form, and the attachments' downloads;
`support.service` and `files.service` as `/api/support` and `/api/files` call them.

Opening a ticket and replying carry an Idempotency-Key made with the form, so a double click opens one
ticket; the files are stored inside that key's run, so a repeat uploads nothing. The conversation is a
fragment (`GET /support/{id}/messages`) that the page swaps in when the live channel says staff answered
(`laura:support.message`) or the status changed."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from laura.bank.files import service as files
from laura.bank.files.deps import Uploads, UploadsDep
from laura.bank.files.errors import FileNotFound
from laura.bank.support import service
from laura.bank.support.deps import PolicyDep
from laura.bank.support.errors import TicketNotFound
from laura.bank.support.schemas import MAX_ATTACHMENTS, MessageRequest, TicketRequest
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.models import utcnow
from laura.identity.service import Principal
from laura.web import forms, once
from laura.web.bank_labels import labelled_page
from laura.web.i18n import N_
from laura.web.session import WebUser

router = APIRouter(include_in_schema=False)
LISTED = 50
_FIELDS = ("category", "priority", "subject", "description")
_MESSAGES = {
    "category": N_("Choose what it is about."),
    "priority": N_("Choose how urgent it is."),
    "subject": N_("Write a subject (up to 255 characters)."),
    "description": N_("Tell us what happened."),
    "message": N_("Write your message."),
    "attachments": N_("Attach at most 10 files."),
}
_REFUSALS = {
    "INVALID_CATEGORY": ("category", N_("Choose what it is about.")),
    "FILE_TOO_LARGE": ("attachments", N_("A file is too large.")),
    "UNSUPPORTED_FILE_TYPE": ("attachments", N_("Attach images (PNG, JPEG), PDF or text files only.")),
    "TICKET_CLOSED": (forms.GENERAL, N_("This ticket is closed. Open a new one if you need more help.")),
    "IDEMPOTENCY_KEY_REUSED": (forms.GENERAL, N_("This form was already sent. Open it again to start over.")),
}


def _refused(code: str) -> forms.FormErrors:
    if code not in _REFUSALS:
        return forms.from_code(code)
    errors = forms.FormErrors()
    errors.add(*_REFUSALS[code])
    return errors


def _invalid(error: ValidationError) -> forms.FormErrors:
    errors = forms.FormErrors()
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        errors.add(
            name if name in _MESSAGES else forms.GENERAL,
            _MESSAGES.get(name, N_("Something went wrong. Please try again.")),
        )
    return errors


async def _uploads_of(form: Any) -> list[UploadFile]:
    """The chosen files (a file input left empty sends one nameless, empty part)."""
    return [f for f in form.getlist("attachments") if isinstance(f, UploadFile) and (f.filename or f.size)]


async def _contents(chosen: list[UploadFile]) -> tuple[bytes, ...]:
    """Each file's bytes for the request's fingerprint, each file rewound for its upload."""
    out = []
    for upload in chosen:
        out.append(await upload.read())
        await upload.seek(0)
    return tuple(out)


async def _store(
    session: AsyncSession, uploads: Uploads, user: Principal, chosen: list[UploadFile]
) -> list[uuid.UUID]:
    stored = []
    for upload in chosen:
        kept = await files.upload(
            session, uploads.store, user.id, name=upload.filename, read=upload.read, limit=uploads.max_bytes
        )
        stored.append(kept.id)
    return stored


@router.get("/support", response_class=HTMLResponse)
async def tickets_page(request: Request, user: WebUser, session: SessionDep) -> Response:
    rows, total = await service.list_tickets(
        session, user.id, status=None, priority=None, offset=0, limit=LISTED, now=utcnow()
    )
    return labelled_page(request, "support/list.html", tickets=rows, total=total)


def _new_page(
    request: Request, values: dict[str, str], errors: forms.FormErrors, key: str, status: int = 200
) -> Response:
    return labelled_page(
        request,
        "support/new.html",
        status,
        values=values,
        errors=errors,
        idempotency_key=key,
        max_files=MAX_ATTACHMENTS,
    )


@router.get("/support/new", response_class=HTMLResponse)
async def new_ticket_form(request: Request, user: WebUser) -> Response:
    return _new_page(request, {"priority": "MEDIUM"}, forms.FormErrors(), once.new_key())


@router.post("/support/new", response_class=HTMLResponse)
async def new_ticket(
    request: Request, user: WebUser, session: SessionDep, policy: PolicyDep, uploads: UploadsDep
) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in _FIELDS}
    key = once.valid_key(form.get("idempotency_key")) or once.new_key()
    chosen = await _uploads_of(form)
    try:
        fields = TicketRequest.model_validate({**values, "attachments": [uuid.uuid4() for _ in chosen]})
    except ValidationError as error:
        return _new_page(request, values, _invalid(error), key, 422)

    async def open_ticket() -> Any:
        attachments = await _store(session, uploads, user, chosen)
        data = fields.model_copy(update={"attachments": attachments})
        return await service.create_ticket(session, policy, user.id, data, now=utcnow())

    try:
        opened = await once.once(
            request,
            session,
            key,
            once.form_fingerprint(request, values, await _contents(chosen)),
            open_ticket,
            status=201,
        )
    except AppError as error:
        return _new_page(request, values, _refused(error.error), key, error.status)
    if isinstance(opened, once.Replayed):
        if opened.status >= 300:
            return _new_page(request, values, _refused(str(opened.body.get("error", ""))), key, opened.status)
        return RedirectResponse(f"/support/{opened.body['id']}", status_code=303)
    return RedirectResponse(f"/support/{opened.id}", status_code=303)


async def _conversation(
    request: Request, session: AsyncSession, user: Principal, ticket_id: uuid.UUID, template: str, **ctx: Any
) -> Response:
    try:
        ticket = await service.get_ticket(session, user, ticket_id, now=utcnow())
    except TicketNotFound:
        return labelled_page(request, "not_found.html", status_code=404)
    ctx.setdefault("errors", forms.FormErrors())
    ctx.setdefault("values", {})
    ctx.setdefault("status_code", 200)
    return labelled_page(
        request, template, ticket=ticket, idempotency_key=once.new_key(), max_files=MAX_ATTACHMENTS, **ctx
    )


@router.get("/support/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, ticket_id: uuid.UUID, user: WebUser, session: SessionDep) -> Response:
    return await _conversation(request, session, user, ticket_id, "support/ticket.html")


@router.get("/support/{ticket_id}/messages", response_class=HTMLResponse)
async def messages_fragment(
    request: Request, ticket_id: uuid.UUID, user: WebUser, session: SessionDep
) -> Response:
    """The conversation alone, for the page to swap in on a live event."""
    return await _conversation(request, session, user, ticket_id, "support/_conversation.html")


@router.post("/support/{ticket_id}/messages", response_class=HTMLResponse)
async def reply(
    request: Request, ticket_id: uuid.UUID, user: WebUser, session: SessionDep, uploads: UploadsDep
) -> Response:
    form = await request.form()
    values = {"message": str(form.get("message", "")).strip()}
    key = once.valid_key(form.get("idempotency_key")) or once.new_key()
    chosen = await _uploads_of(form)
    try:
        fields = MessageRequest.model_validate({**values, "attachments": [uuid.uuid4() for _ in chosen]})
    except ValidationError as error:
        return await _conversation(
            request,
            session,
            user,
            ticket_id,
            "support/ticket.html",
            errors=_invalid(error),
            values=values,
            status_code=422,
        )

    async def send() -> Any:
        attachments = await _store(session, uploads, user, chosen)
        data = fields.model_copy(update={"attachments": attachments})
        return await service.add_message(session, user, ticket_id, data, now=utcnow())

    try:
        sent = await once.once(
            request,
            session,
            key,
            once.form_fingerprint(request, values, await _contents(chosen)),
            send,
            status=201,
        )
    except TicketNotFound:
        return labelled_page(request, "not_found.html", status_code=404)
    except AppError as error:
        return await _conversation(
            request,
            session,
            user,
            ticket_id,
            "support/ticket.html",
            errors=_refused(error.error),
            values=values,
            status_code=error.status,
        )
    if isinstance(sent, once.Replayed) and sent.status >= 300:
        code = str(sent.body.get("error", ""))
        if code == "TICKET_NOT_FOUND":
            return labelled_page(request, "not_found.html", status_code=404)
        return await _conversation(
            request,
            session,
            user,
            ticket_id,
            "support/ticket.html",
            errors=_refused(code),
            values=values,
            status_code=sent.status,
        )
    return RedirectResponse(f"/support/{ticket_id}#conversation-end", status_code=303)


@router.get("/support/files/{file_id}")
async def attachment(
    file_id: uuid.UUID, user: WebUser, session: SessionDep, uploads: UploadsDep, request: Request
) -> Response:
    """An attachment the customer uploaded, as `GET /api/files/{id}` serves it; anyone else's is 404."""
    try:
        stored = await files.readable(session, file_id, user_id=user.id, role=user.role)
        path = files.content_path(uploads.store, stored)
    except FileNotFound:
        return labelled_page(request, "not_found.html", status_code=404)
    except AppError:
        return labelled_page(request, "not_found.html", status_code=410)
    return FileResponse(
        path,
        media_type=stored.content_type,
        filename=stored.name,
        content_disposition_type="attachment",
        headers={"Cache-Control": "private, no-store"},
    )
