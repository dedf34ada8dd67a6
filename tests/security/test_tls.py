"""TLS on every listener, with a certificate made here (openssl) and the real clients configured with it as CA.

The OpenTelemetry exporters (OTLP/HTTP with ``certificate_file=``, OTLP/gRPC with
channel credentials) send with a token over TLS; clickhouse-connect reads back
over HTTPS with ``ca_cert=``. A client that does not trust the certificate, or
speaks plain HTTP, gets nothing.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

import clickhouse_connect
import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export import SpanExportResult
from security_support import A, B, running, self_signed

from aitrail.collector.tokens import create_token


@pytest.fixture(scope="module")
def tls_collector(tmp_path_factory):  # noqa: ANN201
    folder = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(folder)
    tokens_file = folder / "tokens.json"
    token, _ = create_token(tokens_file, A, "team-a", ["ingest", "query"])
    with running(folder, tokens_file=tokens_file, tls_cert=cert, tls_key=key) as collector:
        yield collector, cert, token


def test_urls_say_https(tls_collector):
    collector, _, _ = tls_collector
    assert collector.http_url.startswith("https://") and collector.sql_url.startswith("https://")


@pytest.fixture
def own_ca_only(monkeypatch):  # noqa: ANN201
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's CA (the exporters' certificate_file)."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def _close(client) -> None:  # noqa: ANN001
    try:
        client.close()
    except AttributeError:  # urllib3-future (installed by niquests) under clickhouse-connect's HTTPS pool
        pass


def test_round_trip_with_real_exporters_over_tls(tls_collector, own_ca_only):
    collector, cert, token = tls_collector
    # A payload's own tenant claim changes nothing over TLS either.
    resource = Resource.create({"service.name": "tls-svc", "aitrail.tenant.id": B})

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(
        endpoint=f"{collector.http_url}/v1/traces", certificate_file=str(cert), headers={"Authorization": f"Bearer {token}"},
    )))
    with tracer_provider.get_tracer("tls").start_as_current_span(
        "chat", attributes={"aitrail.kind": "generation", "gen_ai.request.model": "m", "aitrail.prompt.text": "over tls"}
    ):
        pass
    tracer_provider.shutdown()

    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(
        endpoint=collector.grpc_endpoint, credentials=credentials, headers=(("authorization", f"Bearer {token}"),),
    )))
    logger_provider.get_logger("aitrail-tls-test").emit(severity_number=SeverityNumber.WARN, body="grpc over tls")
    logger_provider.shutdown()

    reader = PeriodicExportingMetricReader(OTLPMetricExporter(
        endpoint=f"{collector.http_url}/v1/metrics", certificate_file=str(cert), headers={"Authorization": f"Bearer {token}"},
    ), export_interval_millis=60_000)
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter_provider.get_meter("tls").create_counter("tls_requests").add(3)
    meter_provider.shutdown()

    client = clickhouse_connect.get_client(
        host="127.0.0.1", port=collector.sql_port, secure=True, ca_cert=str(cert), username="reader", password=token,
    )
    try:
        assert client.query("SELECT tenant, team, prompt FROM ai_generations").result_rows == [(A, "team-a", "over tls")]
        assert client.query("SELECT Body FROM otel_logs").result_rows == [("grpc over tls",)]
        assert client.query("SELECT MetricName, Value FROM otel_metrics_sum").result_rows == [("tls_requests", 3.0)]
    finally:
        _close(client)


def test_clients_that_do_not_trust_the_certificate_get_nothing(tls_collector, own_ca_only):
    collector, cert, token = tls_collector
    exporter = OTLPSpanExporter(endpoint=f"{collector.http_url}/v1/traces", headers={"Authorization": f"Bearer {token}"}, timeout=2)
    provider = TracerProvider(resource=Resource.create({"service.name": "untrusting"}))
    with provider.get_tracer("t").start_as_current_span("x") as span:
        readable = span
    assert exporter.export([readable]) == SpanExportResult.FAILURE
    with pytest.raises(urllib.error.URLError) as failed:
        urllib.request.urlopen(f"{collector.sql_url}/ping", timeout=5)
    assert isinstance(failed.value.reason, ssl.SSLCertVerificationError)
    trusted = ssl.create_default_context(cafile=str(cert))
    assert urllib.request.urlopen(f"{collector.sql_url}/ping", timeout=5, context=trusted).read() == b"Ok.\n"


def test_plain_http_to_a_tls_port_gets_nothing(tls_collector):
    collector, _, _ = tls_collector
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(collector.http_url.replace("https://", "http://") + "/healthz", timeout=5).read()
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        with pytest.raises(grpc.FutureTimeoutError):
            grpc.channel_ready_future(channel).result(timeout=2)


def test_a_bad_certificate_is_a_clear_error(tmp_path):
    from aitrail.collector import tls
    from aitrail.errors import ConfigError

    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="cannot use the TLS certificate"):
        tls.server_context(tmp_path / "cert.pem", tmp_path / "key.pem")
    with pytest.raises(ConfigError, match="cannot use the TLS certificate"):
        tls.grpc_credentials(tmp_path / "cert.pem", tmp_path / "missing.pem")
