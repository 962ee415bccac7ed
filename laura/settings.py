"""All configuration in one place: environment variables with the LAURA_ prefix (or a .env file)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from laura.core.proxies import parse_networks


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]

PUBLIC_WEBHOOK_SECRET = "change-me-webhook-secret"
"""The secret that earlier versions shipped as their default: it is public, so whoever knows it could post a
Pix as paid. Refused in every environment."""


SUPPORT_PRIORITIES = ("LOW", "MEDIUM", "HIGH", "URGENT")
"""The support tickets' priorities, each with its first-answer SLA (`support_sla_hours`)."""


class Settings(BaseSettings):
    """Every knob of the platform; each field reads `LAURA_<NAME>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="LAURA_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str | None = None
    read_database_url: str | None = None
    """A streaming replica of the primary for the GETs that may show data a moment old (statements,
    analytics, histories, admin reports; `laura.core.replica`). Unset, they read the primary; unreachable,
    they fall back to it. Money checks and every write never read it."""
    redis_url: str | None = None
    data_dir: Path = Path(".laura")
    db_pool_size: int = 20
    """Connections each API process keeps open; overflow ones are closed when returned, so a pool too small
    for the usual concurrency reconnects on every burst."""
    db_max_overflow: int = 10
    db_statement_pool_size: int = 10
    """Connections each API process may open for the hot paths whose unit of work is one statement, and for
    a GET's reads through the driver (one statement each)."""

    host: str = "127.0.0.1"
    port: int = 8000
    psp_port: int = 8090
    public_url: str | None = None

    secret_key: str | None = None
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 7 * 24 * 3600
    jwt_issuer: str = "laura"
    password_min_length: int = 10

    rate_limits_enabled: bool = True
    rate_limit_default: str = "100/15minutes"
    rate_limit_transfers: str = "10/hour"
    rate_limit_ride_accept: str = "5/minute"
    rate_limit_driver_location: str = "60/minute"
    """Per driver; location reports are exempt from the per-IP default (a driver reports every few seconds)."""
    rate_limit_login: str = "5/15minutes"
    otp_issuer: str = "Laura"
    otp_code_ttl_seconds: int = 300
    """How long a code sent by `POST /api/security/otp/send` is valid."""
    otp_send_interval_seconds: int = 30
    """At most one sent code per user in this many seconds."""
    otp_max_failures: int = 5
    otp_lock_seconds: int = 900
    """After `otp_max_failures` wrong codes in a row, codes are refused for this long (429)."""
    trusted_proxies: CsvList = ["127.0.0.1", "::1"]
    """Addresses and CIDR networks (`10.0.0.5,172.16.0.0/12`) of the proxies whose X-Forwarded-For,
    X-Forwarded-Proto and X-SSL-Client-* headers are believed; a hostname is refused (it matches no peer)."""
    cors_origins: CsvList = []
    max_body_bytes: int = 1024 * 1024

    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = False

    otel_enabled: bool = False
    """Trace requests, their SQL, outgoing HTTP and the jobs they enqueue with OpenTelemetry (the `otel`
    extra: `pip install 'laura[otel]'`); off, no OpenTelemetry SDK is imported."""
    otel_exporter_otlp_endpoint: str | None = None
    """Base URL of the OTLP/HTTP collector (`http://collector:4318`; spans go to `/v1/traces`). Unset, the
    exporter follows the standard `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` variables, else localhost:4318."""
    otel_service_name: str = "laura"
    """`service.name` of this process's spans (API and worker alike; their span names tell them apart)."""
    otel_sample_ratio: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Share of new traces kept (head sampling on the trace id); a trace begun upstream keeps its caller's
    decision, so a request and the jobs it enqueued are kept or dropped together."""
    sentry_dsn: str | None = None
    """Report unhandled errors (requests and failed jobs) to Sentry (the `sentry` extra); unset, off."""
    """uvicorn's access log, one line per HTTP request (tokens redacted); the `request` line says the same."""

    idempotency_ttl_seconds: int = 24 * 3600

    events_poll_seconds: float = 1.0
    events_retention_days: int = 7
    """Published outbox events are deleted this many days after publication (the relay, by rows), and a
    month's outbox partition is dropped once the whole month is older (the `core.outbox_partitions` job)."""
    events_bus: Literal["auto", "postgres", "redis", "nats"] = "auto"
    """Which bus fans events out to the API instances: `auto` is Redis pub/sub when `redis_url` is set, else
    PostgreSQL NOTIFY; `nats` is a JetStream stream that other services can consume too (extra `nats`)."""
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "LAURA_EVENTS"
    """The JetStream stream holding `<nats_subject_prefix>.events.<type>` and the dead letters; created when
    missing (messages kept `events_retention_days`), left as the operator configured it otherwise."""
    nats_subject_prefix: str = "laura"
    """Subjects' first token: deployments sharing a NATS server each need their own (and their own stream)."""
    nats_dedupe_window_seconds: float = 120.0
    """The duplicate window of a stream Laura creates: a message whose id (the outbox position) it saw this
    recently is dropped, so a relay's batch repeated after a crash is stored once."""
    nats_max_deliveries: int = 5
    """A durable consumer's handler gets an event this many times before it goes to `.dlq.<type>`."""
    nats_retry_delay_seconds: float = 1.0
    """The first redelivery after a rejection waits this long; each further one twice the previous."""
    ws_auth_recheck_seconds: float = 30.0
    ws_backlog_limit: int = 500

    ledger_archive_after_months: int | None = Field(default=None, ge=1)
    """Months a month of ledger entries stays in `ledger_entries` before the `ledger.entry_partitions` job
    moves it to `archive.ledger_entries` (still verified by `laura ledger verify`, no longer in statements);
    unset, entries are never archived."""
    webhook_deliveries_retention_days: int | None = Field(default=None, ge=1)
    """Webhook deliveries older than this many days are deleted by the `pix.prune_webhook_deliveries` job;
    unset (the default), they are kept forever, since they are the PSP's evidence."""

    worker_concurrency: int = 4

    psp_base_url: str | None = None
    psp_client_id: str = "laura-sandbox"
    psp_client_secret: str = "laura-sandbox-secret"
    psp_cert_path: str | None = None
    psp_cert_password: str | None = None
    psp_pix_key: str = "pix@laura.example"
    psp_webhook_secret: str | None = None
    """The `?hmac=` the webhook URL carries; unset, a random one is created once in the data dir
    (`webhook_secret_path`) and registered with the PSP from there."""
    # SHA-1/SHA-256 hex fingerprints of the PSP's client certificate, as the TLS terminator reports them in
    # X-SSL-Client-Fingerprint (with X-SSL-Client-Verify: SUCCESS); empty = webhooks use the HMAC only.
    psp_webhook_client_fingerprints: CsvList = []
    pix_webhook_confirm: Literal["psp", "mtls", "off"] = "psp"
    """Before a received Pix is applied: `psp` asks the PSP for it (`GET /v2/pix/{e2eId}`), whoever posted the
    delivery; `mtls` trusts a delivery that came with a verified client certificate and asks for the others;
    `off` trusts every authenticated delivery (refused in production)."""
    ledger_verify_cron: str = "30 3 * * *"
    """When the worker runs `ledger.verify` (the CLI's check, over every entry in one snapshot); its outcome
    is the `ledger_verify_problems` gauge the `LedgerVerifyFailing` alert reads."""
    pix_reconcile_cron: str = "*/5 * * * *"
    pix_reconcile_grace_seconds: int = 120
    pix_reconcile_batch_size: int = 500
    pix_send_recheck_cron: str = "* * * * *"
    pix_send_recheck_grace_seconds: int = 30
    """A send PROCESSING this long is read back at the PSP by the every-minute recheck (money going out
    should not wait for the 5-minute reconciliation; a resend reuses its idEnvio, so it never pays twice)."""

    schedule_max_days: int = 366
    """How far ahead a Pix (`scheduledFor`) or a bill payment (`paymentDate`) may be scheduled; later is a 422
    (a job queued for the year 9999 is no one's intent)."""

    ted_fee: Decimal = Decimal("8.50")
    transfer_max_amount: Decimal = Decimal("10000.00")
    transfer_daily_limit: Decimal = Decimal("20000.00")
    pix_night_limit: Decimal = Decimal("1000.00")

    card_bins: dict[str, str] = {"VISA": "453211", "MASTERCARD": "535110", "ELO": "636368"}
    """Each brand's BIN (the first digits of its card numbers), as JSON in `LAURA_CARD_BINS`."""
    card_brand: Literal["VISA", "MASTERCARD", "ELO"] = "VISA"
    """The brand of every card issued from now on (a card keeps the brand it was issued with)."""
    card_daily_limit: Decimal = Decimal("5000.00")
    card_monthly_limit: Decimal = Decimal("50000.00")
    card_max_virtual: int = 5
    """Virtual cards a customer may hold at once (ACTIVE or BLOCKED; cancelled, lost and stolen ones do not count)."""
    card_validity_years: int = 5

    card_network_api_keys: CsvList = []
    """The processor keys the card network sends as `X-Api-Key` (comma-separated); none: every network route
    answers 401."""
    card_authorization_hold_days: int = 7
    """An approved authorization not captured within this many days is released by the ledger's hold expiry."""

    budget_summary_cache_ttl_seconds: int = 15 * 60
    """How long `GET /api/budgets/summary` is kept in Redis (spec: 15 minutes); spending and budget writes
    drop it sooner. Without Redis nothing is cached."""

    files_max_bytes: int = 10 * 1024 * 1024
    """The largest upload `POST /api/files` keeps (413 FILE_TOO_LARGE past it); the request's body limit on
    that route is this plus room for the multipart framing, instead of `max_body_bytes`."""
    support_sla_hours: dict[str, int] = {"URGENT": 1, "HIGH": 4, "MEDIUM": 24, "LOW": 72}
    """Hours within which a ticket of each priority gets its first staff answer (JSON in
    `LAURA_SUPPORT_SLA_HOURS`); later, the ticket is `overdue`."""
    support_auto_close_days: int = 7
    """A RESOLVED ticket with no customer reply for this many days is CLOSED by the auto-close job."""

    mobility_timezone: str = "America/Sao_Paulo"
    mobility_search_radius_m: float = 5000.0
    mobility_location_max_age_seconds: float = 60.0
    mobility_location_max_delay_seconds: float = 120.0
    mobility_location_retention_days: int = 30
    mobility_city_speed_kmh: float = 25.0
    mobility_max_vehicle_age: dict[str, int] = {"standard": 10, "comfort": 6, "premium": 5, "xl": 8}
    ride_offer_batch_size: int = 5
    ride_offer_ttl_seconds: float = 15.0
    ride_max_offer_rounds: int = 3
    ride_surge_cap: Decimal = Decimal("2.0")
    ride_surge_radius_m: float = 2000.0
    ride_cancellation_fee: Decimal = Decimal("5.00")
    ride_free_cancellation_seconds: float = 120.0
    ride_accept_lock_ms: int = 10_000
    ride_commission_percent: Decimal = Decimal(20)
    """The platform's share of a paid fare; the driver gets the rest (rounded half-up to the cent)."""
    ride_commission_percent_by_category: dict[str, Decimal] = {}
    """Per-category overrides of `ride_commission_percent` (JSON, e.g. {"premium": 15})."""
    cancellation_fee_driver_percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(75)
    """The driver's share of a paid cancellation fee (their time was lost; rounded half-up to the cent); the
    platform's commission gets the rest."""
    ride_payment_expires_seconds: int = 1800
    """How long a ride's Pix charge may be paid; after that a new one is asked for (POST /payments/intent)."""
    driver_earnings_hold_hours: float = 24.0
    """A driver's earnings (a paid ride's share, a cancellation fee's) are on hold this long before they can
    be paid out (D+1 by default); 0 makes them available at once."""
    payout_min_amount: Decimal = Decimal("10.00")
    """The smallest payout a driver may ask for (422 PAYOUT_BELOW_MINIMUM below it)."""
    payout_daily_limit: Decimal = Decimal("5000.00")
    """What a driver's payouts (pending, processing, completed) may add up to in a Brasília day."""
    payout_weekly_limit: Decimal = Decimal("20000.00")
    """... and in a Brasília week (from Monday); past either, 422 PAYOUT_LIMIT_EXCEEDED."""
    payout_pix_key_change_delay_hours: float = 24.0
    """A payout asked for less than this after the driver changed their Pix key is accepted but sent only
    this long after the change (and flagged for review)."""
    mobility_redis_namespace: str = "mobility"
    mobility_service_area: dict[str, Any] | None = None
    """GeoJSON Polygon or MultiPolygon (lon, lat) where rides may start and end; None: no geofence."""
    fraud_max_speed_kmh: float = 200.0
    """A location report implying more than this from the driver's last one is refused."""
    fraud_min_judged_distance_m: float = 200.0
    """Moves shorter than this are never judged by speed: a phone's GPS error in a city reaches 100-200 m."""
    fraud_impossible_movements_to_flag: int = 3
    """The driver is flagged at this many refused impossible movements in 24 hours..."""
    fraud_min_flagged_jump_m: float = 1000.0
    """... counting only jumps at least this long: a phone's GPS outlier (a few hundred metres) is refused
    but is no sign of a spoofed position."""
    fraud_cancellations_to_flag: int = 10
    """A passenger or driver is flagged past this many cancellations in 24 hours."""
    fraud_cancellations_to_suspend: int = 20
    """... and suspended from requesting/accepting past this many, until an admin resolves the flag."""
    fraud_max_fare: Decimal = Decimal("500.00")
    """A completed ride's fare above this (BRL) is flagged and the driver's share held for review."""
    fraud_long_route_ratio: float = 1.8
    """A completed ride driven over this many times its estimated distance is flagged, its share held."""
    fraud_long_route_min_extra_m: float = 1000.0
    """... and only when the extra distance is at least this: a short ride's GPS jitter is no detour."""
    fraud_collusion_rides: int = 4
    """A passenger and driver with this many short rides together in the window are both flagged."""
    fraud_collusion_window_hours: float = 24.0
    fraud_collusion_max_km: float = 2.0
    """A ride shorter than this (final distance) counts towards collusion."""

    # Field validators, not a model validator: a model's error would print its input, secrets included.
    @field_validator("psp_webhook_secret")
    @classmethod
    def _not_the_public_secret(cls, secret: str | None) -> str | None:
        if secret == PUBLIC_WEBHOOK_SECRET:
            raise ValueError(
                "LAURA_PSP_WEBHOOK_SECRET is a public value that would let anyone post a Pix as paid: unset it"
                " (a random secret is then created in the data dir) or set one of your own"
            )
        return secret

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, entries: list[str]) -> list[str]:
        parse_networks(entries)
        return entries

    @field_validator("mobility_service_area")
    @classmethod
    def _a_polygon(cls, area: dict[str, Any] | None) -> dict[str, Any] | None:
        """The shape only; the rings are read (and checked) by laura.mobility.fraud.geofence."""
        if area is not None and (
            area.get("type") not in ("Polygon", "MultiPolygon") or not area.get("coordinates")
        ):
            raise ValueError(
                "LAURA_MOBILITY_SERVICE_AREA: a GeoJSON Polygon or MultiPolygon with coordinates"
            )
        return area

    @field_validator("card_bins")
    @classmethod
    def _bins_are_prefixes(cls, bins: dict[str, str]) -> dict[str, str]:
        for brand, prefix in bins.items():
            if not (prefix.isdigit() and 6 <= len(prefix) <= 8):
                raise ValueError(f"LAURA_CARD_BINS: the BIN of {brand} must be 6 to 8 digits")
        return bins

    @field_validator("support_sla_hours")
    @classmethod
    def _an_sla_for_every_priority(cls, hours: dict[str, int]) -> dict[str, int]:
        if sorted(hours) != sorted(SUPPORT_PRIORITIES) or min(hours.values()) <= 0:
            raise ValueError(
                f"LAURA_SUPPORT_SLA_HOURS: positive hours for exactly {', '.join(SUPPORT_PRIORITIES)}"
            )
        return hours

    @field_validator("events_bus")
    @classmethod
    def _the_bus_is_configured(cls, bus: str, info: ValidationInfo) -> str:
        if bus == "redis" and not info.data.get("redis_url"):
            raise ValueError("LAURA_EVENTS_BUS=redis needs LAURA_REDIS_URL")
        return bus

    @field_validator("card_brand")
    @classmethod
    def _brand_has_a_bin(cls, brand: str, info: ValidationInfo) -> str:
        if brand not in info.data.get("card_bins", {}):
            raise ValueError(f"LAURA_CARD_BRAND={brand} has no BIN in LAURA_CARD_BINS")
        return brand

    @field_validator("pix_webhook_confirm")
    @classmethod
    def _confirmation_fits(cls, mode: str, info: ValidationInfo) -> str:
        if mode == "off" and info.data.get("environment") == "production":
            raise ValueError(
                "LAURA_PIX_WEBHOOK_CONFIRM=off is refused in production: use psp, or mtls behind a TLS terminator"
                " that verifies the PSP's client certificate"
            )
        if mode == "mtls" and not info.data.get("psp_webhook_client_fingerprints"):
            raise ValueError(
                "LAURA_PIX_WEBHOOK_CONFIRM=mtls needs LAURA_PSP_WEBHOOK_CLIENT_FINGERPRINTS (the PSP's certificate)"
            )
        return mode

    @property
    def required_database_url(self) -> str:
        """`database_url` where nothing can run without one (the CLI's `resolve_settings` always sets it)."""
        if not self.database_url:
            raise RuntimeError("LAURA_DATABASE_URL is not set")
        return self.database_url

    @property
    def secret_key_path(self) -> Path:
        return self.data_dir / "secret.key"

    @property
    def webhook_secret_path(self) -> Path:
        return self.data_dir / "webhook.secret"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
