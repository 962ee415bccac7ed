"""The mobility context's HTTP surface, one router for the app's ROUTERS list."""

from __future__ import annotations

from fastapi import APIRouter

from laura.mobility.finance.router import router as finance_router
from laura.mobility.fraud.router import router as fraud_router
from laura.mobility.payments.router import router as payments_router
from laura.mobility.payouts.router import router as payouts_router
from laura.mobility.people.router import router as people_router
from laura.mobility.rides.router import router as rides_router
from laura.mobility.tracking.router import router as tracking_router

router = APIRouter()
router.include_router(people_router)
router.include_router(tracking_router)
router.include_router(rides_router)
router.include_router(fraud_router)
router.include_router(payments_router)
router.include_router(payouts_router)
router.include_router(finance_router)
