"""create_app(settings) -> the FastAPI application: state, middleware, routers, health and metrics."""

from __future__ import annotations

import asyncio
import gc
import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from laura import __version__
from laura.bank.accounts.router import router as accounts_router
from laura.bank.analytics.router import router as analytics_router
from laura.bank.bills.router import router as bills_router
from laura.bank.budgets.cache import SummaryCache, attach
from laura.bank.budgets.router import router as budgets_router
from laura.bank.card_network.router import router as card_network_router
from laura.bank.cards.crypto import CardMacs
from laura.bank.cards.issuer import open_issuer
from laura.bank.cards.router import router as cards_router
from laura.bank.deposits.router import router as deposits_router
from laura.bank.files.router import router as files_router
from laura.bank.pix_keys.router import router as pix_keys_router
from laura.bank.support.router import router as support_router
from laura.bank.transfers.router import router as transfers_router
from laura.core.database_metrics import refresh_database_up
from laura.core.db import Database
from laura.core.error_reporting import start_error_reporting
from laura.core.events import start_events
from laura.core.http import SecurityHeadersMiddleware, install_error_handlers
from laura.core.job_metrics import refresh_queue_depth
from laura.core.jobs import register_task_modules
from laura.core.migrations import head_revision
from laura.core.observability import RequestContextMiddleware, configure_logging
from laura.core.ratelimit import DefaultLimitMiddleware, RateLimiter
from laura.core.redis_client import redis_client
from laura.core.replica import replica_check
from laura.core.security import FieldCipher, TokenSigner, load_or_create_secret
from laura.core.tracing import start_tracing, trace_app
from laura.identity.keys import load_signing_keys
from laura.identity.otp.codes import CodeHasher
from laura.identity.otp.router import router as otp_router
from laura.identity.router import router as identity_router
from laura.identity.session_cookie import web_secret
from laura.ledger.router import router as ledger_router
from laura.mobility.router import router as mobility_router
from laura.ops.router import audit_router
from laura.ops.router import router as ops_router
from laura.pix.psp import EfiClient
from laura.pix.router import router as pix_router
from laura.pix.webhook_auth import webhook_secret
from laura.realtime.router import router as realtime_router
from laura.settings import Settings, get_settings
from laura.web.mount import STATIC_PREFIX, install_middleware, install_routes

ROUTERS: list[APIRouter] = [
    pix_router,  # first: the PSP's webhook is the busiest route, and each router matched before it costs CPU
    identity_router,
    otp_router,
    audit_router,
    realtime_router,
    ops_router,
    accounts_router,
    transfers_router,
    bills_router,
    cards_router,
    budgets_router,
    pix_keys_router,
    deposits_router,
    analytics_router,
    card_network_router,
    support_router,
    files_router,
    mobility_router,
    ledger_router,
]

TASK_MODULES: list[str] = [
    "laura.ledger.tasks",
    "laura.pix.tasks",
    "laura.mobility.rides.tasks",
    "laura.mobility.payments.tasks",
    "laura.mobility.payouts.tasks",
    "laura.mobility.finance.tasks",
    "laura.mobility.matching.tasks",
    "laura.bank.bills.tasks",
    "laura.bank.transfers.tasks",
    "laura.bank.card_network.tasks",
    "laura.bank.budgets.tasks",
    "laura.bank.support.tasks",
    "laura.bank.files.tasks",
    "laura.bank.deposits.service",  # registers the "bank.deposit" paid hook, which reconciliation runs
]
"""Every mounted feature's task module (dotted path, imported on the first `defer` or worker start):
registered as this module loads, so the API, `laura worker` and `laura up` all know the same tasks."""
register_task_modules(TASK_MODULES)

_MULTIPART_FRAMING_BYTES = 64 * 1024
"""Room above `files_max_bytes` for an upload's multipart boundaries and part headers: the file route
itself counts the file's bytes and answers FILE_TOO_LARGE."""
_SHUTDOWN_STEP_SECONDS = 10.0
_log = structlog.get_logger("laura.app")

_UNLIMITED_PATHS = (
    "/health",
    "/ready",
    "/metrics",
    "/docs",
    "/openapi.json",
    "/.well-known/",
    "/webhooks/",
    "/api/card-network/",  # the network's processor calls from a few addresses, authenticated by its key
    STATIC_PREFIX,  # the web app's CSS and scripts: a page pulls a few per view
)
_PER_USER_LIMITED = re.compile(r"^/drivers/[^/]+/location$")
"""Routes with a per-user limit of their own instead of the per-IP default."""

TAGS = [
    {"name": "auth", "description": "Register, login, token refresh and logout (RS256 JWT)."},
    {"name": "security", "description": "One-time codes: an authenticator app (TOTP) or a sent code."},
    {"name": "audit", "description": "The append-only, hash-chained audit trail (admin)."},
    {"name": "ops", "description": "Health, readiness and Prometheus metrics."},
    {"name": "realtime", "description": "WebSocket stream of the caller's domain events (`/ws`)."},
    {"name": "jobs", "description": "Background jobs: failed jobs and their manual retry (admin)."},
    {"name": "accounts", "description": "Bank: the customer's checking account, balance and statement."},
    {
        "name": "transfers",
        "description": "Bank: P2P, Pix and TED transfers, their list, cancel and receipts.",
    },
    {"name": "bills", "description": "Bank: boletos - validate a line, pay now or scheduled, receipts."},
    {"name": "budgets", "description": "Bank: spending budgets per category, their summary and alerts."},
    {"name": "deposits", "description": "Bank: top up the account with a Pix QR Code (dynamic charge)."},
    {
        "name": "analytics",
        "description": "Bank: the customer's spending by category and day, income vs spending.",
    },
    {
        "name": "card-network",
        "description": "Bank: the card network's authorizations, captures, voids and refunds (X-Api-Key).",
    },
    {
        "name": "support",
        "description": "Bank: support tickets and messages; the staff queue, assignment and status (staff).",
    },
    {"name": "files", "description": "Bank: uploads (PNG, JPEG, PDF, text) to attach to support tickets."},
    {"name": "pix-keys", "description": "Bank: the customer's Pix keys (CPF, phone, e-mail, random EVP)."},
    {"name": "pix", "description": "Pix charges and the PSP webhook (`/webhooks/efi/pix`)."},
    {"name": "drivers", "description": "Mobility: driver onboarding, going online and location reports."},
    {
        "name": "rides",
        "description": "Mobility: estimates, ride requests, offers, accept and the ride lifecycle.",
    },
    {
        "name": "payments",
        "description": "Mobility: a ride's payment by Pix (the charge, its QR Code, status).",
    },
    {
        "name": "admin",
        "description": "Mobility operations: driver approval queue and ride statistics (admin).",
    },
    {
        "name": "ledger",
        "description": "The double-entry ledger: accounts, statements, trial balance (admin).",
    },
]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if not settings.database_url:
        raise RuntimeError("LAURA_DATABASE_URL is not set (use `laura up` for the embedded database)")
    db = Database(
        settings.database_url,
        read_url=settings.read_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        statement_pool_size=settings.db_statement_pool_size,
        settings=settings,
    )
    master_key = load_or_create_secret(settings.secret_key, settings.secret_key_path)
    cipher = FieldCipher(master_key)
    async with db.unit_of_work() as session:
        keys = await load_signing_keys(session, cipher)
    app.state.db = db
    app.state.cipher = cipher
    app.state.web_secret = web_secret(master_key)
    app.state.card_macs = CardMacs(master_key)
    app.state.otp_hasher = CodeHasher(master_key)
    app.state.card_issuer = await open_issuer(db, settings, master=cipher, macs=app.state.card_macs)
    app.state.webhook_secret = webhook_secret(settings)
    app.state.signer = TokenSigner(
        keys, issuer=settings.jwt_issuer, ttl_seconds=settings.access_token_ttl_seconds
    )
    app.state.redis = redis_client(settings.redis_url)
    app.state.budget_cache = SummaryCache(app.state.redis, settings.budget_summary_cache_ttl_seconds)
    attach(db, app.state.budget_cache)  # after open_issuer, which sets the sessions' info first
    app.state.limiter = RateLimiter(redis_url=settings.redis_url, enabled=settings.rate_limits_enabled)
    app.state.events = await start_events(app)
    app.state.psp = EfiClient.from_settings(settings)
    if settings.environment != "test":  # a test run builds hundreds of apps in one process: freeze none
        _tune_gc()
    try:
        yield
    finally:
        await _shut("events", app.state.events.stop())
        await _shut("psp", app.state.psp.aclose())
        if app.state.redis is not None:
            await _shut("redis", app.state.redis.aclose())
        await _shut("database", db.dispose())


_GC_GEN0_THRESHOLD = 50_000


def _tune_gc() -> None:
    """A request allocates thousands of short-lived objects; at CPython's default threshold (700) the
    collector runs every few requests and its older generations walk every long-lived object of the app.
    Collecting less often and freezing what startup built (out of every future collection) cut the
    server's CPU per P2P transfer by about a tenth (docs/PERFORMANCE.md)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(_GC_GEN0_THRESHOLD, gen1, gen2)


async def _shut(part: str, closing: Awaitable[None]) -> None:
    """One step of the shutdown, with a deadline: a stuck close is logged, and the process still exits."""
    try:
        async with asyncio.timeout(_SHUTDOWN_STEP_SECONDS):
            await closing
    except TimeoutError:
        _log.warning("shutdown_step_timed_out", part=part, seconds=_SHUTDOWN_STEP_SECONDS)


def _ops_router() -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/health")
    async def health() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @router.get("/ready")
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the database answers and is migrated to head; Redis answers when configured. A read
        replica's check is shown but does not count: its reads fall back to the primary."""
        checks: dict[str, str] = {}
        try:
            async with request.app.state.db.engine.connect() as conn:
                current = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            checks["database"] = "ok"
            checks["migrations"] = (
                "ok" if current == head_revision() else f"at {current}, head is {head_revision()}"
            )
        except Exception as exc:  # noqa: BLE001 - readiness reports every failure as not ready
            checks["database"] = f"error: {type(exc).__name__}"
        redis = request.app.state.redis
        if redis is not None:
            try:
                await asyncio.wait_for(redis.ping(), timeout=2)
                checks["redis"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["redis"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        if request.app.state.db.has_replica:
            checks["replica"] = await replica_check(request.app.state.db)
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
        )

    @router.get("/metrics", include_in_schema=True)
    async def metrics(request: Request) -> Response:
        """Prometheus exposition."""
        await refresh_database_up(request.app.state.db)
        await refresh_queue_depth(request.app.state.db)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the database is opened in the lifespan, so import has no side effects."""
    settings = settings or get_settings()
    tracing = start_tracing(settings)
    start_error_reporting(settings)
    configure_logging(
        settings.log_level, settings.log_json, access_log=settings.access_log, trace_ids=tracing
    )
    app = FastAPI(
        title="Laura",
        version=__version__,
        description="Digital bank and ride-hailing backend on one double-entry ledger, moving money over Pix.",
        openapi_tags=TAGS,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    if settings.rate_limits_enabled:
        app.add_middleware(
            DefaultLimitMiddleware, exempt_prefixes=_UNLIMITED_PATHS, exempt_paths=_PER_USER_LIMITED
        )
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-Id", "Retry-After"],
        )
    app.add_middleware(
        RequestContextMiddleware,
        trusted_proxies=settings.trusted_proxies,
        max_body_bytes=settings.max_body_bytes,
        body_limits={"/api/files": settings.files_max_bytes + _MULTIPART_FRAMING_BYTES},
    )
    install_middleware(app)
    app.add_middleware(
        SecurityHeadersMiddleware
    )  # outermost: its headers are on every answer, a 500 included
    app.include_router(_ops_router())
    for router in ROUTERS:
        app.include_router(router)
    install_routes(app)  # after the API's routes: its paths are matched first, and stay as they were
    trace_app(app)
    return app
