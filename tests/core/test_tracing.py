"""Tracing: one trace from a request through its SQL to the job it enqueued and the job's own SQL, the
trace id on the request's log line, OTLP export to a collector, and what happens without the SDK."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from laura.app import create_app
from laura.core import tracing
from laura.core.tracing import TRACE_KEY, start_tracing, stop_tracing
from laura.settings import Settings
from tests.bank.support import funded_customer
from tests.catching_server import catching_server
from tests.helpers import random_cpf
from tests.jobs_support import job_status, running_worker

TED = {
    "bank": "001",
    "agency": "0001",
    "account": "123456-7",
    "accountType": "CHECKING",
    "amount": 100.00,
    "description": "Aluguel",
    "recipientName": "João Silva",
}
SETTLE = "bank.settle_ted"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """This process's tracing, exporting to memory for the test (and undone after it)."""
    exporter = InMemorySpanExporter()
    start_tracing(Settings(_env_file=None, otel_enabled=True), exporter=exporter)
    yield exporter
    stop_tracing()


@pytest.fixture
def settings(settings: Settings, spans: InMemorySpanExporter) -> Settings:
    return settings.model_copy(update={"otel_enabled": True, "log_level": "INFO"})


def _statement(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("db.statement") or attributes.get("db.query.text") or "")


def _children(spans: list[ReadableSpan], parent: ReadableSpan, kind: SpanKind) -> list[ReadableSpan]:
    return [s for s in spans if s.kind == kind and s.parent and s.parent.span_id == parent.context.span_id]


async def _ted(app, client) -> tuple[str, int]:
    """A TED posted by a funded customer: its id and its settle job's id."""
    _, headers = await funded_customer(app, client, "500.00")
    response = await client.post(
        "/api/transfers/ted", json={**TED, "recipientDocument": random_cpf()}, headers=headers
    )
    assert response.status_code == 201, response.text
    async with app.state.db.engine.connect() as conn:
        job_id = await conn.scalar(
            text("SELECT id FROM procrastinate_jobs WHERE task_name = :t"), {"t": SETTLE}
        )
    return response.json()["id"], job_id


async def _due_now(app, job_id: int) -> None:
    """The TED's delivery time came: the settle job is due (it was scheduled for the next banking hour)."""
    async with app.state.db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = :id"), {"id": job_id}
        )


async def _settled(app, settings, job_id: int) -> None:
    async with running_worker(settings) as worker:

        async def succeeded() -> bool:
            return await job_status(app.state.db, job_id) == "succeeded"

        await worker.until(succeeded)


async def test_one_trace_spans_the_request_its_sql_and_the_job_it_enqueued(app, client, settings, spans):
    transfer_id, job_id = await _ted(app, client)
    finished = list(spans.get_finished_spans())
    server = next(s for s in finished if s.kind == SpanKind.SERVER and s.name == "POST /api/transfers/ted")
    trace_id = format(server.context.trace_id, "032x")
    async with app.state.db.engine.connect() as conn:
        args = await conn.scalar(text("SELECT args FROM procrastinate_jobs WHERE id = :id"), {"id": job_id})
    assert args["transfer_id"] == transfer_id
    assert args[TRACE_KEY]["traceparent"].split("-")[1:3] == [
        trace_id,
        format(server.context.span_id, "016x"),
    ]

    await _due_now(app, job_id)
    await _settled(app, settings, job_id)

    async with app.state.db.engine.connect() as conn:
        status = await conn.scalar(text("SELECT status FROM transfers WHERE id = :id"), {"id": transfer_id})
    assert status == "COMPLETED"  # the job ran with its own arguments: the trace context was taken out

    finished = list(spans.get_finished_spans())
    trace = [s for s in finished if s.context.trace_id == server.context.trace_id]
    request_sql = _children(trace, server, SpanKind.CLIENT)
    assert any("procrastinate_defer_jobs_v1" in _statement(s) for s in request_sql)
    assert any("INSERT INTO transfers" in _statement(s) for s in request_sql)
    (job,) = [s for s in trace if s.name == f"job {SETTLE}"]
    assert job.kind == SpanKind.CONSUMER
    assert job.parent is not None and job.parent.span_id == server.context.span_id
    assert job.attributes["messaging.message.id"] == str(job_id)
    job_sql = _children(trace, job, SpanKind.CLIENT)
    assert any(_statement(s).startswith("UPDATE transfers") for s in job_sql), [
        _statement(s) for s in job_sql
    ]
    # statements outside any request or job (the worker's and the relay's own, the test's) start no trace
    assert all(s.parent is not None for s in finished if s.kind == SpanKind.CLIENT)


async def test_a_job_enqueued_with_a_trace_runs_on_a_worker_without_tracing(app, client, settings, spans):
    """A traced API and an untraced worker (a rolling upgrade): the trace context never reaches the task."""
    transfer_id, job_id = await _ted(app, client)
    stop_tracing()
    await _due_now(app, job_id)
    await _settled(app, settings.model_copy(update={"otel_enabled": False}), job_id)
    async with app.state.db.engine.connect() as conn:
        status = await conn.scalar(text("SELECT status FROM transfers WHERE id = :id"), {"id": transfer_id})
    assert status == "COMPLETED"


async def test_the_request_log_line_carries_its_trace_and_span_ids(app, client, spans, capsys):
    capsys.readouterr()
    response = await client.get("/api/accounts/me")
    assert response.status_code == 401
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (request,) = [line for line in lines if line.get("event") == "request"]
    assert request["trace_id"] == format(server.context.trace_id, "032x")
    assert request["span_id"] == format(server.context.span_id, "016x")
    assert request["request_id"] == response.headers["x-request-id"]  # the request id stays beside them


async def test_probes_are_not_traced(client, spans):
    assert (await client.get("/health")).status_code == 200
    assert spans.get_finished_spans() == ()


def test_spans_are_exported_over_otlp_http_to_the_configured_collector():
    stop_tracing()
    with catching_server() as collector:
        settings = Settings(
            _env_file=None,
            otel_enabled=True,
            otel_exporter_otlp_endpoint=collector.url,
            otel_service_name="laura-test",
        )
        try:
            assert start_tracing(settings)
            with tracing._state.provider.get_tracer("test").start_as_current_span("checkout"):
                pass
        finally:
            stop_tracing()  # flushes the batch
        (export,) = collector.received
    assert export.path == "/v1/traces" and export.headers["content-type"] == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(export.body)
    (resource,) = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert attributes["service.name"] == "laura-test"
    assert [s.name for scope in resource.scope_spans for s in scope.spans] == ["checkout"]


def test_tracing_on_without_the_extra_is_a_clear_startup_error(monkeypatch, settings):
    stop_tracing()
    for module in ("opentelemetry.sdk.trace", "opentelemetry.sdk.resources"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(RuntimeError, match=r"pip install 'laura\[otel\]'"):
        create_app(settings)
