"""OpenTelemetry tracing, off unless `LAURA_OTEL_ENABLED`: requests, their SQL, outgoing HTTP and jobs.

One tracer provider per process (the API, a worker, or both in `laura up`) exports over OTLP/HTTP in
batches. The instrumentations are the official ones: FastAPI for the server span of each request, asyncpg
for every statement (SQLAlchemy's and the raw driver's paths both end in asyncpg; parameters are never
recorded), httpx for calls to the PSP. A job carries the W3C context of the span that enqueued it in its
arguments (`TRACE_KEY`, written by `defer`), and the worker runs it in a span that continues that trace, so
one trace shows a request, its SQL and the jobs it caused. The SDK is imported only here and only when
tracing is on: a plain install (no `otel` extra) imports this module and never the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from structlog.typing import EventDict

from laura import __version__
from laura.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import Link, TraceState
    from opentelemetry.util.types import Attributes
    from procrastinate.jobs import Job

TRACE_KEY = "_trace"
"""The job argument holding the enqueuing span's `traceparent` (and `tracestate`); the worker takes it out
before the task runs, so no task sees it."""

UNTRACED_URLS = "/health,/ready,/metrics"
"""Probes and scrapes: a span each, every few seconds, would drown the traces worth reading."""

MISSING_EXTRA = (
    "LAURA_OTEL_ENABLED is true but OpenTelemetry's SDK is not installed: pip install 'laura[otel]'"
)


@dataclass
class _Tracing:
    provider: TracerProvider | None = None


_state = _Tracing()


def start_tracing(settings: Settings, *, exporter: SpanExporter | None = None) -> bool:
    """Set up this process's tracing once (later calls keep the first set-up); returns whether it is on.
    `exporter` replaces the OTLP one (a test's in-memory exporter)."""
    if not settings.otel_enabled:
        return False
    if _state.provider is not None:
        return True
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise RuntimeError(MISSING_EXTRA) from exc
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.otel_service_name, "service.version": __version__}
        ),
        sampler=_sampler(settings.otel_sample_ratio),
    )
    if exporter is None:
        endpoint = settings.otel_exporter_otlp_endpoint
        exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)  # for libraries that trace on their own; settable once
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _state.provider = provider
    return True


def _sampler(ratio: float) -> Sampler:
    """Keep `ratio` of new traces and every span of a kept one; drop a statement or an HTTP call outside
    any request or job (the event relay's polling, a pool's checks): a trace of one SELECT says nothing."""
    from opentelemetry.sdk.trace.sampling import (
        Decision,
        ParentBased,
        Sampler,
        SamplingResult,
        TraceIdRatioBased,
    )
    from opentelemetry.trace import SpanKind, get_current_span

    class RequestsAndJobs(Sampler):
        def __init__(self) -> None:
            self.within = ParentBased(TraceIdRatioBased(ratio))

        def should_sample(
            self,
            parent_context: Context | None,
            trace_id: int,
            name: str,
            kind: SpanKind | None = None,
            attributes: Attributes = None,
            links: Sequence[Link] | None = None,
            trace_state: TraceState | None = None,
        ) -> SamplingResult:
            if kind is SpanKind.CLIENT and not get_current_span(parent_context).get_span_context().is_valid:
                return SamplingResult(Decision.DROP)
            return self.within.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"RequestsAndJobs{{{self.within.get_description()}}}"  # type: ignore[no-untyped-call]

    return RequestsAndJobs()


def stop_tracing() -> None:
    """Export what is pending and undo the instrumentation (a test's; an exiting process flushes itself)."""
    provider = _state.provider
    if provider is None:
        return
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().uninstrument()
    provider.shutdown()
    _state.provider = None


def trace_app(app: FastAPI) -> None:
    """A server span around each request (probes excepted), outside every middleware of the app."""
    if _state.provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_state.provider,
        excluded_urls=UNTRACED_URLS,
        exclude_spans=["receive", "send"],
    )


def with_trace_context(args: dict[str, Any]) -> dict[str, Any]:
    """`args` of a job being enqueued, plus the current span's context when tracing is on and a span is
    recording (nothing to continue otherwise)."""
    if _state.provider is None:
        return args
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return {**args, TRACE_KEY: carrier} if carrier else args


@contextmanager
def job_span(job: Job) -> Iterator[None]:
    """Run a job inside a consumer span that continues the trace of whoever enqueued it. The trace
    context is taken out of the job's arguments whether tracing is on or not (a traced API may enqueue
    for a worker that is not)."""
    carrier = job.task_kwargs.pop(TRACE_KEY, None)
    if _state.provider is None:
        yield
        return
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    tracer = _state.provider.get_tracer("laura.jobs", __version__)
    with tracer.start_as_current_span(
        f"job {job.task_name}",
        context=extract(carrier) if isinstance(carrier, dict) else None,
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "procrastinate",
            "messaging.destination.name": job.queue,
            "messaging.message.id": str(job.id),
            "laura.job.attempt": job.attempts + 1,
        },
    ):
        yield


def add_trace_ids(_logger: object, _name: str, event: EventDict) -> EventDict:
    """structlog processor: the active span's `trace_id` and `span_id` (hex, as trace backends show them)
    on every log line written inside it, so a log line leads to its trace."""
    from opentelemetry.trace import get_current_span

    context = get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
