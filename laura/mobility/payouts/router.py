"""GET /drivers/{id}/balance and /financials (the driver, admins), POST /payouts (the driver), GET /payouts
and /payouts/{id}."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status

from laura.core.db import SessionDep
from laura.core.errors import AppError
from laura.core.idempotency import idempotent
from laura.core.models import utcnow
from laura.core.money import to_cents
from laura.core.pagination import Page, PageDep
from laura.identity.deps import CurrentUser
from laura.ledger import service as ledger
from laura.ledger.errors import AccountNotFound
from laura.ledger.schemas import StatementRowOut
from laura.mobility.deps import DriverUser, SettingsDep
from laura.mobility.fraud.errors import AccountSuspended
from laura.mobility.payments.service import driver_payable_code
from laura.mobility.payouts import service
from laura.mobility.payouts.balance import driver_balance, driver_financials
from laura.mobility.payouts.errors import (
    InsufficientBalance,
    PayoutBelowMinimum,
    PayoutLimitExceeded,
    PayoutNotFound,
)
from laura.mobility.payouts.policy import PayoutPolicy
from laura.mobility.payouts.schemas import BalanceOut, FinancialsOut, PayoutOut, PayoutRequest, StatementOut
from laura.mobility.people.errors import DriverNotFound

router = APIRouter(tags=["payouts"])

DriverRef = Annotated[str, Path(max_length=36, description="A driver id, or `me`")]


def _responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    found: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = found.setdefault(error.status, {"description": ""})
        entry["description"] = " / ".join(filter(None, [entry["description"], error.error]))
    return found


@router.get("/drivers/{driver_ref}/balance", response_model=BalanceOut, responses=_responses(DriverNotFound))
async def balance(
    driver_ref: DriverRef, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> BalanceOut:
    """What the driver may withdraw now, earnings on hold and payouts on their way (the driver, admins)."""
    driver = await service.visible_driver(session, user, driver_ref)
    policy = PayoutPolicy.from_settings(settings)
    return BalanceOut.of(await driver_balance(session, driver.id, policy=policy, now=utcnow()))


@router.get(
    "/drivers/{driver_ref}/financials", response_model=FinancialsOut, responses=_responses(DriverNotFound)
)
async def financials(
    driver_ref: DriverRef, user: CurrentUser, session: SessionDep, settings: SettingsDep, page: PageDep
) -> FinancialsOut:
    """The balance, earnings today / this week / this month (Brasília), lifetime totals and a page of the
    driver's ledger account statement, newest first (`cursor` for the next page)."""
    driver = await service.visible_driver(session, user, driver_ref)
    policy = PayoutPolicy.from_settings(settings)
    figures = await driver_financials(session, driver.id, policy=policy, now=utcnow())
    code = driver_payable_code(driver.id)
    try:
        entries = await ledger.entries(session, code, cursor=page.cursor, limit=page.limit)
        statement = StatementOut(
            data=[StatementRowOut.of(row) for row in entries.rows],
            total=await ledger.count_entries(session, code),
            next_cursor=entries.next_cursor,
        )
    except AccountNotFound:
        statement = StatementOut(data=[], total=0, next_cursor=None)
    return FinancialsOut.build(figures, statement)


@router.post(
    "/payouts",
    status_code=status.HTTP_201_CREATED,
    response_model=PayoutOut,
    responses=_responses(InsufficientBalance, AccountSuspended, PayoutBelowMinimum, PayoutLimitExceeded),
)
@idempotent()
async def request_payout(
    body: PayoutRequest, user: DriverUser, session: SessionDep, settings: SettingsDep
) -> PayoutOut:
    """Withdraw `amount` to the driver's Pix key: PENDING at once, sent by the worker (a key changed in the
    last 24 h: sent at `notBefore`)."""
    payout = await service.request_payout(
        session,
        user=user,
        amount_cents=to_cents(body.amount),
        policy=PayoutPolicy.from_settings(settings),
        now=utcnow(),
    )
    return PayoutOut.model_validate(payout)


@router.get("/payouts", response_model=Page[PayoutOut], responses=_responses(DriverNotFound))
async def list_payouts(
    user: DriverUser,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[
        Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"] | None, Query(alias="status")
    ] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    driver_id: Annotated[uuid.UUID | None, Query(alias="driverId")] = None,
) -> Page[PayoutOut]:
    """The caller's payouts newest first (admins: everyone's, or one driver's with `driverId`); `from`
    inclusive, `to` exclusive."""
    rows, total = await service.list_payouts(
        session,
        user=user,
        driver_id=driver_id,
        status=status_,
        since=since,
        until=until,
        offset=page.offset,
        limit=page.limit,
    )
    return Page[PayoutOut].build([PayoutOut.model_validate(p) for p in rows], page, total)


@router.get("/payouts/{payout_id}", response_model=PayoutOut, responses=_responses(PayoutNotFound))
async def get_payout(payout_id: uuid.UUID, user: DriverUser, session: SessionDep) -> PayoutOut:
    return PayoutOut.model_validate(await service.get_payout(session, user=user, payout_id=payout_id))
