"""End to end with the real OpenTelemetry Python SDK and its OTLP exporters as clients.

Every exporter (HTTP protobuf, HTTP JSON, gRPC) sends to a real collector on a
real chDB store; rows are read back with clickhouse-connect through the
collector's SQL endpoint and every field sent is compared with what was sent.
Expected values come from the SDK objects themselves, not from our code.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from aitrail.sdk import vocabulary as v
from aitrail.sdk.fingerprint import fingerprints, to_signed


def span_exporter(kind, collector):
    if kind == "http-protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")
    if kind == "http-json":
        from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces")
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True)


def log_exporter(kind, collector):
    if kind == "http-protobuf":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=f"{collector.http_url}/v1/logs")
    if kind == "http-json":
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=f"{collector.http_url}/v1/logs")
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

    return OTLPLogExporter(endpoint=collector.grpc_endpoint, insecure=True)


def metric_exporter(kind, collector):
    if kind == "http-protobuf":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(endpoint=f"{collector.http_url}/v1/metrics")
    if kind == "http-json":
        from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(endpoint=f"{collector.http_url}/v1/metrics")
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=collector.grpc_endpoint, insecure=True)


EXPORTERS = ["http-protobuf", "http-json", "grpc"]
RESOURCE = {"service.name": "test-svc", "user.id": "u-1", "team": "payments", v.TENANT: "forged-tenant"}


def _tracer(kind, collector):
    provider = TracerProvider(resource=Resource.create(RESOURCE))
    provider.add_span_processor(SimpleSpanProcessor(span_exporter(kind, collector)))
    return provider, provider.get_tracer("ingest-test", "1.2.3")


@contextlib.contextmanager
def _logger(kind, collector):
    """An OTel logger whose records the OTel log exporter sends; every record sent on exit."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    provider = LoggerProvider(resource=Resource.create(RESOURCE))
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter(kind, collector)))
    try:
        yield provider.get_logger(f"aitrail-test-{kind}")
    finally:
        provider.shutdown()


def _warn(logger, body, attributes=None):
    from opentelemetry._logs import SeverityNumber

    logger.emit(severity_number=SeverityNumber.WARN, severity_text="WARN", body=body, attributes=attributes)


@pytest.mark.parametrize("kind", EXPORTERS)
def test_every_span_field_round_trips(kind, collector, ch):
    provider, tracer = _tracer(kind, collector)
    with tracer.start_as_current_span("parent") as parent:
        linked = parent.get_span_context()
    child = tracer.start_span(
        "child", kind=SpanKind.SERVER, links=[Link(linked, {"link.attr": "x"})],
        attributes={"s": "text", "i": 42, "f": 1.5, "b": True, "ls": ["a", "b"], "li": [1, -2]},
        start_time=1_700_000_000_000_000_000,
    )
    child.add_event("something happened", {"e": "v"}, timestamp=1_700_000_000_500_000_000)
    child.set_status(Status(StatusCode.ERROR, "it broke"))
    child.end(end_time=1_700_000_002_000_000_000)
    provider.shutdown()

    sent = child.get_span_context()
    row = ch.query(
        "SELECT * FROM aitrail.otel_traces WHERE SpanName = 'child'"
    ).named_results().__next__()
    assert row["TraceId"] == format(sent.trace_id, "032x")
    assert row["SpanId"] == format(sent.span_id, "016x")
    assert row["ParentSpanId"] == ""
    assert row["SpanKind"] == "Server"
    assert row["StatusCode"] == "Error" and row["StatusMessage"] == "it broke"
    assert row["Duration"] == 2_000_000_000
    assert row["ServiceName"] == "test-svc"
    assert row["ScopeName"] == "ingest-test" and row["ScopeVersion"] == "1.2.3"
    assert row["SpanAttributes"] == {"s": "text", "i": "42", "f": "1.5", "b": "true", "ls": '["a","b"]', "li": "[1,-2]"}
    resource = row["ResourceAttributes"]
    assert resource["user.id"] == "u-1" and resource["service.name"] == "test-svc"
    assert resource["team"] == "payments" and v.TEAM not in resource  # as sent: the views resolve the alias
    assert resource[v.TENANT] == "default"  # the payload's claim was replaced
    assert row["Events.Name"] == ["something happened"]
    assert row["Events.Attributes"] == [{"e": "v"}]
    assert int(row["Events.Timestamp"][0].timestamp()) == 1_700_000_000
    assert row["Links.TraceId"] == [format(linked.trace_id, "032x")]
    assert row["Links.SpanId"] == [format(linked.span_id, "016x")]
    assert row["Links.Attributes"] == [{"link.attr": "x"}]
    parent_row = ch.query("SELECT SpanId, ParentSpanId FROM aitrail.otel_traces WHERE SpanName = 'parent'").first_row
    assert parent_row == (format(linked.span_id, "016x"), "")
    lookup = ch.query("SELECT count() FROM aitrail.otel_traces_trace_id_ts WHERE TraceId = {t:String}",
                      parameters={"t": format(sent.trace_id, "032x")}).first_row[0]
    assert lookup >= 1


@pytest.mark.parametrize("kind", EXPORTERS)
def test_a_generation_span_becomes_a_typed_row(kind, collector, ch):
    lines = ["def total(items):", "    return sum(i.price for i in items)", "}", ""]
    attributes = {
        v.KIND: v.KIND_GENERATION, v.ASSISTANT: "claude-code", v.GEN_AI_SYSTEM: "anthropic",
        v.GEN_AI_REQUEST_MODEL: "claude-sonnet-4-5", v.GEN_AI_RESPONSE_MODEL: "claude-sonnet-4-5-20250929",
        v.GEN_AI_USAGE_INPUT_TOKENS: 1200, v.GEN_AI_USAGE_OUTPUT_TOKENS: 300, v.COST_USD: 0.0081,
        v.SESSION_ID: "sess-1", v.PROMPT_TEXT: "sum the prices", v.PROMPT_POLICY: "full", v.PROMPT_HASH: "abc",
        v.VCS_REPOSITORY_URL_FULL: "https://git.example.com/acme/shop", v.VCS_REF_HEAD_NAME: "main",
        v.VCS_REF_HEAD_REVISION: "0" * 40, v.CODE_FILE_PATH: "shop/cart.py", v.LANGUAGE: "python",
        v.LINE_START: 10, v.LINE_END: 13, v.LINES_ADDED: 4, v.LINES_REMOVED: 1,
        v.LINE_FINGERPRINTS: [to_signed(fp) for fp in fingerprints(lines)], v.DECISION: "accepted",
        v.USER_EMAIL: "ana@example.com", v.USER_NAME: "Ana",
    }
    provider, tracer = _tracer(kind, collector)
    span = tracer.start_span("generation", attributes=attributes, start_time=1_700_000_000_000_000_000)
    span.end(end_time=1_700_000_003_000_000_000)
    provider.shutdown()
    rows = list(ch.query("SELECT * FROM aitrail.ai_generations").named_results())
    assert len(rows) == 1
    row = rows[0]
    expected = {
        "tenant": "default", "team": "payments", "user_id": "u-1", "user_email": "ana@example.com", "user_name": "Ana",
        "assistant": "claude-code", "provider": "anthropic", "model": "claude-sonnet-4-5-20250929",
        "session_id": "sess-1", "trace_id": format(span.get_span_context().trace_id, "032x"),
        "span_id": format(span.get_span_context().span_id, "016x"), "prompt_policy": "full",
        "prompt": "sum the prices", "prompt_hash": "abc", "input_tokens": 1200, "output_tokens": 300,
        "cost_usd": 0.0081, "repository": "https://git.example.com/acme/shop", "branch": "main", "commit": "0" * 40,
        "file_path": "shop/cart.py", "language": "python", "line_start": 10, "line_end": 13, "lines_added": 4,
        "lines_removed": 1, "line_fingerprints": fingerprints(lines), "decision": "accepted", "status": "Unset",
        "duration_ns": 3_000_000_000, "service_name": "test-svc",
    }
    assert {k: row[k] for k in expected} == expected


@pytest.mark.parametrize("kind", EXPORTERS)
def test_log_records_round_trip(kind, collector, ch):
    with _logger(kind, collector) as logger:
        _warn(logger, "tool decision accept", {"decision": "accept", "tool_name": "Write"})
    row = next(ch.query("SELECT * FROM aitrail.otel_logs").named_results())
    assert row["Body"] == "tool decision accept"
    assert row["SeverityText"] == "WARN" and row["SeverityNumber"] == 13
    assert row["LogAttributes"]["decision"] == "accept" and row["LogAttributes"]["tool_name"] == "Write"
    assert row["ServiceName"] == "test-svc" and row["ResourceAttributes"][v.TENANT] == "default"


@pytest.mark.parametrize("kind", EXPORTERS)
def test_metrics_round_trip(kind, collector, ch):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    reader = PeriodicExportingMetricReader(metric_exporter(kind, collector), export_interval_millis=3_600_000)
    provider = MeterProvider(resource=Resource.create(RESOURCE), metric_readers=[reader])
    meter = provider.get_meter("claude_code")
    lines = meter.create_counter("claude_code.lines_of_code.count")
    lines.add(12, {"type": "added"})
    lines.add(3, {"type": "removed"})
    cost = meter.create_histogram("aitrail.test.latency")
    for value in (1.0, 2.0, 7.0):
        cost.record(value)
    provider.shutdown()
    sums = {
        r["Attributes"]["type"]: r["Value"]
        for r in ch.query("SELECT * FROM aitrail.otel_metrics_sum WHERE MetricName = 'claude_code.lines_of_code.count'").named_results()
    }
    assert sums == {"added": 12, "removed": 3}
    hist = next(ch.query("SELECT * FROM aitrail.otel_metrics_histogram").named_results())
    assert hist["Count"] == 3 and hist["Sum"] == 10.0 and hist["Min"] == 1.0 and hist["Max"] == 7.0
    assert sum(hist["BucketCounts"]) == 3


def test_healthz_and_metrics_count_what_happened(collector):
    import urllib.request

    provider, tracer = _tracer("http-protobuf", collector)
    for i in range(5):
        tracer.start_span(f"s{i}").end()
    provider.shutdown()
    assert collector.wait_drained(30)  # a 2xx means spooled; inserted follows
    health = json.load(urllib.request.urlopen(f"{collector.http_url}/healthz"))
    assert health["status"] == "ok"
    assert health["metrics"]["received"]["traces"] == 5
    assert health["metrics"]["inserted"]["otel_traces"] == 5
    text = urllib.request.urlopen(f"{collector.http_url}/metrics").read().decode()
    assert 'aitrail_inserted_rows_total{table="otel_traces"} 5' in text


def test_secrets_from_a_client_that_did_not_redact_never_reach_storage(collector, ch):
    """The collector redacts again: a raw OTel client with a secret in its prompt stores none of it."""
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    aws = "AKIA" + "QWERTYUIOPASDFGH"
    provider, tracer = _tracer("http-protobuf", collector)
    tracer.start_span("generation", attributes={
        v.KIND: v.KIND_GENERATION, v.PROMPT_TEXT: f"use token {token} and key {aws} to deploy",
        v.GEN_AI_REQUEST_MODEL: "m",
    }).end()
    provider.shutdown()
    everything = json.dumps([list(map(str, r)) for r in ch.query("SELECT * FROM aitrail.otel_traces").result_rows])
    everything += json.dumps([list(map(str, r)) for r in ch.query("SELECT * FROM aitrail.ai_generations").result_rows])
    assert token not in everything and aws not in everything
    prompt = ch.query("SELECT prompt FROM aitrail.ai_generations").first_row[0]
    assert prompt.startswith("use token [REDACTED:") and "to deploy" in prompt


@pytest.mark.parametrize("kind", EXPORTERS)
def test_no_secret_of_the_corpus_sent_unredacted_reaches_storage(kind, collector, ch, secret_corpus):
    """Every fake secret of the corpus, in a prompt, a span event and a log body, from a client that did not
    redact: none of it is in any table, and the text around it is."""
    provider, tracer = _tracer(kind, collector)
    with _logger(kind, collector) as logger:
        for index, secret in enumerate(secret_corpus):
            with tracer.start_as_current_span(f"corpus-{index}", attributes={
                v.KIND: v.KIND_GENERATION, v.PROMPT_TEXT: f"please fix this: {secret.line}", v.GEN_AI_REQUEST_MODEL: "m",
            }) as span:
                span.add_event("tool_call", {"input": secret.line})
            _warn(logger, f"user_prompt: {secret.line}")
    provider.shutdown()
    stored = ""
    for table in ("otel_traces", "otel_logs", "ai_generations"):
        stored += json.dumps([list(map(str, row)) for row in ch.query(f"SELECT * FROM aitrail.{table}").result_rows])
    leaked = [secret.name for secret in secret_corpus for value in secret.values if value in stored]
    assert not leaked, leaked
    prompts = [row[0] for row in ch.query("SELECT prompt FROM aitrail.ai_generations").result_rows]
    assert len(prompts) == len(secret_corpus) and all(p.startswith("please fix this: ") for p in prompts)
