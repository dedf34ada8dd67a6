"""OTLP/gRPC beyond the happy path: compression, partial success, and the status codes exporters retry on."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def _request(spans=1, bad=0):
    request = trace_service_pb2.ExportTraceServiceRequest()
    ss = request.resource_spans.add().scope_spans.add()
    for i in range(spans):
        ss.spans.add(name=f"s{i}", trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)))
    for i in range(bad):
        ss.spans.add(name=f"bad{i}", trace_id=b"\x00" * 16, span_id=bytes(range(1, 9)))
    return request


def test_gzip_compressed_export(collector, ch):
    provider = TracerProvider(resource=Resource.create({"service.name": "gz"}))
    exporter = OTLPSpanExporter(endpoint=collector.grpc_endpoint, insecure=True, compression=grpc.Compression.Gzip)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("compressed").end()
    provider.shutdown()
    assert ch.query("SELECT SpanName FROM aitrail.otel_traces WHERE ServiceName = 'gz'").result_rows == [("compressed",)]


def test_partial_success_over_grpc(collector, ch):
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        reply = trace_service_pb2_grpc.TraceServiceStub(channel).Export(_request(spans=2, bad=1), timeout=30)
    assert reply.partial_success.rejected_spans == 1 and reply.partial_success.error_message
    assert ch.query("SELECT count() FROM aitrail.otel_traces").first_row[0] == 2


def test_backpressure_is_unavailable(make_collector):
    collector = make_collector(max_pending_rows=2)
    with grpc.insecure_channel(collector.grpc_endpoint) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            trace_service_pb2_grpc.TraceServiceStub(channel).Export(_request(spans=5), timeout=30)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "retry" in caught.value.details().lower()
