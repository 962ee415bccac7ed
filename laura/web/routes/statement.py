"""The statement: the account's entries with filters (Brasília days, kind, status), keyset pages, the
CSV download, and each transfer's receipt as a PDF.

The reads are `accounts.service.statement` / `statement_csv`, the ones `GET /api/accounts/me/statement`
answers with, and the PDF is `transfers.receipt.receipt_pdf`, the one `GET /api/transfers/{id}/receipt`
sends. The page is a plain GET form and links (it reads without JavaScript); with htmx the filters refresh
the results in place and "older entries" appends the next page below the current one. The statement and
its CSV read the replica when there is one (as the API's do); a receipt, opened from the transfer just made,
reads the primary."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from laura.bank.accounts import service as accounts
from laura.bank.accounts.errors import AccountNotFound
from laura.bank.accounts.schemas import StatementEntry, StatementOut
from laura.bank.transfers import service as transfers
from laura.bank.transfers.errors import TransferNotFound
from laura.bank.transfers.receipt import receipt_pdf
from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.replica import ReplicaSessionDep
from laura.web import statement_filters
from laura.web.i18n import N_
from laura.web.render import page
from laura.web.session import WebUser
from laura.web.statement_filters import StatementFilters

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
_STALE_CURSOR = N_("That page of the statement is no longer available; here are your latest entries.")


def receipt_href(entry: StatementEntry) -> str | None:
    """Where a line's receipt is: the customer's own transfer or boleto payment (a transfer received is the
    sender's, and its receipt theirs)."""
    if entry.entity_id is None or entry.direction != "DEBIT":
        return None
    if entry.entity_type == "transfer":
        return f"/transfers/{entry.entity_id}"
    if entry.entity_type == "bill_payment":
        return f"/boletos/{entry.entity_id}"
    return None


async def _read(
    session: AsyncSession, user_id: uuid.UUID, filters: StatementFilters, cursor: str | None
) -> StatementOut:
    return await accounts.statement(
        session,
        user_id,
        since=filters.since,
        until=filters.until,
        cursor=cursor,
        limit=PAGE_SIZE,
        kind=filters.kind,
        status=filters.status,
    )


@router.get("/statement", response_class=HTMLResponse)
async def statement(request: Request, user: WebUser, session: ReplicaSessionDep) -> Response:
    """The page, or under htmx only what changed: the results (new filters) or the next rows (`cursor`)."""
    filters = statement_filters.parse(request.query_params)
    cursor = request.query_params.get("cursor") or None
    notice = None
    try:
        found = await _read(session, user.id, filters, cursor)
    except AccountNotFound:  # a passenger or a driver has no checking account
        return page(request, "not_found.html", status_code=404)
    except AppError as error:  # a cursor edited by hand, or of another filter: start from the newest
        if error.status != 422 or cursor is None:
            raise
        cursor, notice = None, _STALE_CURSOR
        found = await _read(session, user.id, filters, None)
    htmx = request.headers.get("HX-Request") == "true"
    template = "statement.html"
    if htmx:
        template = "_statement_more.html" if cursor else "_statement_results.html"
    return page(
        request,
        template,
        status_code=422 if filters.errors else 200,
        filters=filters,
        errors=filters.errors,
        entries=found.data,
        next_cursor=found.pagination.next_cursor,
        older_page=cursor is not None,
        receipt_href=receipt_href,
        kinds=statement_filters.KINDS,
        statuses=statement_filters.STATUSES,
        notice=notice,
    )


@router.get("/statement.csv")
async def statement_csv(request: Request, user: WebUser, session: ReplicaSessionDep) -> Response:
    """The filtered statement as the API's CSV (`?format=csv`), every page of it."""
    filters = statement_filters.parse(request.query_params)
    try:
        body = await accounts.statement_csv(
            session,
            user.id,
            since=filters.since,
            until=filters.until,
            kind=filters.kind,
            status=filters.status,
        )
    except AccountNotFound:
        return page(request, "not_found.html", status_code=404)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="extrato.csv"', "Cache-Control": "no-store"},
    )


@router.get("/transfers/{transfer_id}/receipt.pdf")
async def transfer_receipt_pdf(
    request: Request, transfer_id: uuid.UUID, user: WebUser, session: SessionDep
) -> Response:
    """The sender's comprovante; anyone else's transfer is not found (404), as in the API."""
    try:
        transfer, recipient_name = await transfers.receipt_parties(session, user.id, transfer_id)
    except TransferNotFound:
        return page(request, "not_found.html", status_code=404)
    return Response(
        receipt_pdf(transfer, user.name, recipient_name),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="comprovante-{transfer.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )
