"""The ingest bench's load: a failure ends the wait for the rows at once, not at its timeout; and its ceiling (a
collector without its per-item checks) really goes without them."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from otlp_corpus import request_with
from secret_corpus import corpus

from aitrail.collector import pipeline
from aitrail.collector.config import CollectorConfig
from aitrail.collector.engine.schema import spooled
from aitrail.collector.limits import ItemLimits
from aitrail.collector.processors import IngestContext
from aitrail.collector.telemetry import SelfMetrics
from bench.ingest import Load, wait_count, without_item_checks


class _Refusing(BaseHTTPRequestHandler):
    """A collector stand-in that refuses every export with 400 (what the bench's clients must report)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"refused by the test"
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_failed_load_stops_the_wait_for_its_rows_with_the_clients_error():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        load = Load("http", str(server.server_address[1]), 1, 2, 1, 5, 0)
        load.start()
        # The count never comes: before, this waited out the timeout (30 minutes in the bench).
        with pytest.raises(RuntimeError, match="the load failed: .*HTTP 400"):
            wait_count(lambda: 0, load.spans, timeout=900, failed=load.failure)
        with pytest.raises(RuntimeError, match="HTTP 400"):
            load.finish()
    finally:
        server.shutdown()
        server.server_close()


def test_the_ceiling_skips_the_per_item_checks_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's ceiling (a live collector without its limits and processors) must really skip them — else it
    measures the collector again — and spool the request as the collector spools one nothing changed, its model
    calls left to the engine."""
    context = IngestContext(tenant="acme", team="payments")
    secret = corpus()[0].line
    request = request_with("traces", "span", {"prompt": AnyValue(string_value=secret),
                                              "other": AnyValue(string_value="x")})
    body = request.SerializeToString()

    def prepare(max_attributes: int) -> tuple[bytes, int]:
        parsed = ExportTraceServiceRequest.FromString(body)
        collector = pipeline.Pipeline(pipeline.standard_processors(CollectorConfig()), None,  # type: ignore[arg-type]
                                      SelfMetrics(), ItemLimits(max_attributes=max_attributes))
        flattened = collector.prepare("traces", parsed, context, body)
        (part,) = flattened.tables.values()
        return part.data, flattened.rejected

    as_sent = spooled(body, context.tenant, context.team, model_calls=True)
    redacted, refused = prepare(64)
    assert refused == 0 and secret.encode() not in redacted and redacted != as_sent  # the collector redacts
    assert prepare(1)[1] == 1  # and refuses a span over a limit
    for name in ("enforce", "run_processors"):  # (restored after the test)
        monkeypatch.setattr(pipeline, name, getattr(pipeline, name))
    without_item_checks()
    assert prepare(64) == prepare(1) == (as_sent, 0)  # the ceiling: as sent, unchecked
