"""OTLP/HTTP bodies -> request messages: content types, encodings, limits, OTLP/JSON, and the answers."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib

import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aitrail.collector.otlp import SIGNALS, Limits, decode_request, response_body, status_body, wants_json
from aitrail.errors import InvalidPayload, PayloadTooLarge, UnsupportedMedia

PB = "application/x-protobuf"
JS = "application/json"
MiB = 1 << 20

TRACE_HEX = "5b8efff798038103d269b633813fc60c"
SPAN_HEX = "eee19b7ec3c1b174"
PARENT_HEX = "eee19b7ec3c1b173"


def sdk_trace_request() -> ExportTraceServiceRequest:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "decode-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("decode-test")
    with tracer.start_as_current_span("outer", attributes={"n": 1}):
        with tracer.start_as_current_span("inner"):
            pass
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans())


def sdk_logs_request() -> ExportLogsServiceRequest:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "decode-test"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("decode-test").emit(body="hello", attributes={"k": "v"})
    provider.shutdown()
    return encode_logs(exporter.get_finished_logs())


def sdk_metrics_request() -> ExportMetricsServiceRequest:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "decode-test"}))
    provider.get_meter("decode-test").create_counter("c").add(3, {"k": "v"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return encode_metrics(data)


SDK_REQUESTS = {"traces": sdk_trace_request, "logs": sdk_logs_request, "metrics": sdk_metrics_request}


# --- protobuf, content types --------------------------------------------------------------------


@pytest.mark.parametrize("signal", SIGNALS)
def test_protobuf_bodies_decode_to_the_request_that_was_sent(signal: str) -> None:
    sent = SDK_REQUESTS[signal]()
    got = decode_request(signal, sent.SerializeToString(), PB, None, Limits())
    assert got == sent
    assert type(got) is type(sent)


def test_content_type_parameters_and_case_are_ignored() -> None:
    sent = sdk_trace_request()
    body = sent.SerializeToString()
    assert decode_request("traces", body, "Application/X-Protobuf; charset=utf-8", None, Limits()) == sent
    empty = decode_request("traces", b"{}", " application/JSON ;charset=UTF-8", None, Limits())
    assert empty == ExportTraceServiceRequest()


@pytest.mark.parametrize("signal", SIGNALS)
@pytest.mark.parametrize("content_type", [PB, JS])
def test_an_empty_body_is_an_empty_request(signal: str, content_type: str) -> None:
    got = decode_request(signal, b"", content_type, None, Limits())
    assert got.ByteSize() == 0
    assert type(got).__name__.startswith("Export")


@pytest.mark.parametrize("content_type", ["text/plain", "application/protobuf", "application/grpc", "", None])
def test_unknown_or_missing_content_types_are_415_naming_the_supported_ones(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMedia) as raised:
        decode_request("traces", b"", content_type, None, Limits())
    assert raised.value.status == 415
    assert "application/x-protobuf" in str(raised.value) and "application/json" in str(raised.value)


def test_unknown_content_encoding_is_415_naming_the_supported_ones() -> None:
    with pytest.raises(UnsupportedMedia) as raised:
        decode_request("traces", b"x", PB, "br", Limits())
    assert raised.value.status == 415
    assert "'br'" in str(raised.value) and "gzip" in str(raised.value) and "deflate" in str(raised.value)


def test_garbage_protobuf_is_400_with_a_message() -> None:
    with pytest.raises(InvalidPayload) as raised:
        decode_request("traces", b"\xff\xff\xff\xff\xff", PB, None, Limits())
    assert raised.value.status == 400
    assert type(raised.value) is InvalidPayload
    assert "protobuf" in str(raised.value)


def test_unknown_signal_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="profiles"):
        decode_request("profiles", b"", PB, None, Limits())


# --- encodings and limits -----------------------------------------------------------------------


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    "encoding, compress",
    [
        ("gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 means it
        ("deflate", raw_deflate),  # raw, as many clients send it
        ("identity", lambda data: data),
        ("", lambda data: data),
    ],
)
def test_content_encodings(encoding: str, compress) -> None:  # noqa: ANN001
    sent = sdk_trace_request()
    got = decode_request("traces", compress(sent.SerializeToString()), PB, encoding, Limits())
    assert got == sent


def test_json_bodies_can_be_compressed_too() -> None:
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "zipped"}]}]}]}).encode()
    got = decode_request("traces", gzip.compress(body), JS, "gzip", Limits())
    assert got.resource_spans[0].scope_spans[0].spans[0].name == "zipped"


def test_concatenated_gzip_members_are_one_body() -> None:
    body = sdk_trace_request().SerializeToString()
    half = len(body) // 2
    got = decode_request("traces", gzip.compress(body[:half]) + gzip.compress(body[half:]), PB, "gzip", Limits())
    assert got.SerializeToString() == body


@pytest.mark.parametrize(
    "encoding, body",
    [
        ("gzip", b"this is not gzip at all"),
        ("gzip", gzip.compress(b"x" * 1000)[:-12]),  # truncated
        ("gzip", gzip.compress(b"") + b"trailing garbage"),
        ("deflate", b"\xff\xfe\xfd garbage that is neither zlib nor raw deflate"),
    ],
)
def test_bad_compressed_data_is_400(encoding: str, body: bytes) -> None:
    with pytest.raises(InvalidPayload) as raised:
        decode_request("traces", body, PB, encoding, Limits())
    assert type(raised.value) is InvalidPayload
    assert raised.value.status == 400


def gzip_of_zeros(size: int) -> bytes:
    """A gzip stream of ``size`` zero bytes, made without ever holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MiB)
    parts = [compressor.compress(block) for _ in range(size // MiB)]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_a_zip_bomb_is_413_without_inflating_past_the_limit() -> None:
    bomb = gzip_of_zeros(100 * MiB)
    assert len(bomb) < 200_000
    limits = Limits(max_decompressed_bytes=2 * MiB)
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge) as raised:
            decode_request("traces", bomb, PB, "gzip", limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.status == 413
    assert str(2 * MiB) in str(raised.value)
    assert peak < 2 * MiB + 3 * MiB, f"peak {peak} bytes while refusing a bomb over a 2 MiB limit"


def test_a_zip_bomb_at_the_default_limits_costs_about_the_limit() -> None:
    bomb = gzip_of_zeros(100 * MiB)
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge):
            decode_request("traces", bomb, PB, "gzip", Limits())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < Limits().max_decompressed_bytes * 1.2


def test_a_deflate_bomb_is_413_too() -> None:
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(bytes(MiB)) for _ in range(8)) + compressor.flush()
    with pytest.raises(PayloadTooLarge):
        decode_request("logs", body, PB, "deflate", Limits(max_decompressed_bytes=MiB))


def test_exactly_at_the_decompressed_limit_is_accepted() -> None:
    sent = sdk_trace_request()
    body = sent.SerializeToString()
    got = decode_request("traces", gzip.compress(body), PB, "gzip", Limits(max_decompressed_bytes=len(body)))
    assert got == sent
    with pytest.raises(PayloadTooLarge):
        decode_request("traces", gzip.compress(body), PB, "gzip", Limits(max_decompressed_bytes=len(body) - 1))


def test_bodies_over_the_body_limit_are_413() -> None:
    body = sdk_trace_request().SerializeToString()
    with pytest.raises(PayloadTooLarge) as raised:
        decode_request("traces", body, PB, None, Limits(max_body_bytes=len(body) - 1))
    assert str(len(body) - 1) in str(raised.value)
    with pytest.raises(PayloadTooLarge):
        decode_request("traces", body, PB, None, Limits(max_decompressed_bytes=len(body) - 1))


# --- OTLP/JSON ----------------------------------------------------------------------------------


def json_request(signal: str, doc: dict) -> object:
    return decode_request(signal, json.dumps(doc).encode(), JS, None, Limits())


def test_json_trace_ids_are_hex_and_become_bytes() -> None:
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "lib", "version": "1"},
                        "spans": [
                            {
                                "traceId": TRACE_HEX,
                                "spanId": SPAN_HEX,
                                "parentSpanId": PARENT_HEX.upper(),  # hex is case-insensitive
                                "name": "op",
                                "kind": 2,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": 1700000000000000500,
                                "links": [{"traceId": TRACE_HEX, "spanId": PARENT_HEX, "traceState": "a=b"}],
                                "status": {"code": 2, "message": "boom"},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    request = json_request("traces", doc)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id == bytes.fromhex(TRACE_HEX)
    assert span.span_id == bytes.fromhex(SPAN_HEX)
    assert span.parent_span_id == bytes.fromhex(PARENT_HEX)
    assert span.links[0].trace_id == bytes.fromhex(TRACE_HEX)
    assert span.links[0].span_id == bytes.fromhex(PARENT_HEX)
    assert span.links[0].trace_state == "a=b"
    assert span.kind == Span.SPAN_KIND_SERVER
    assert span.status.code == Status.STATUS_CODE_ERROR
    assert span.start_time_unix_nano == 1700000000000000000
    assert span.end_time_unix_nano == 1700000000000000500
    assert request.resource_spans[0].resource.attributes[0].value.string_value == "svc"


def test_json_snake_case_keys_and_enum_names_are_accepted() -> None:
    doc = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": TRACE_HEX,
                                "span_id": SPAN_HEX,
                                "parent_span_id": PARENT_HEX,
                                "kind": "SPAN_KIND_CLIENT",
                                "start_time_unix_nano": 5,
                                "status": {"code": "STATUS_CODE_OK"},
                            },
                            {"traceId": TRACE_HEX, "spanId": SPAN_HEX, "kind": 4, "status": {"code": 1}},
                        ]
                    }
                ]
            }
        ]
    }
    spans = json_request("traces", doc).resource_spans[0].scope_spans[0].spans
    assert spans[0].trace_id == bytes.fromhex(TRACE_HEX)
    assert spans[0].parent_span_id == bytes.fromhex(PARENT_HEX)
    assert spans[0].kind == Span.SPAN_KIND_CLIENT
    assert spans[0].status.code == Status.STATUS_CODE_OK
    assert spans[0].start_time_unix_nano == 5
    assert spans[1].kind == Span.SPAN_KIND_PRODUCER
    assert spans[1].status.code == Status.STATUS_CODE_OK


def test_json_unknown_fields_are_ignored_at_every_level() -> None:
    doc = {
        "futureTopLevel": {"x": 1},
        "resourceSpans": [
            {
                "someNewField": [1, 2],
                "scopeSpans": [
                    {"spans": [{"traceId": TRACE_HEX, "spanId": SPAN_HEX, "name": "kept", "brandNew": "ignored"}]}
                ],
            }
        ],
    }
    span = json_request("traces", doc).resource_spans[0].scope_spans[0].spans[0]
    assert span.name == "kept"
    assert span.trace_id == bytes.fromhex(TRACE_HEX)


def test_json_empty_ids_are_absent_ids() -> None:
    span = {"traceId": TRACE_HEX, "spanId": SPAN_HEX, "parentSpanId": ""}
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    assert json_request("traces", doc).resource_spans[0].scope_spans[0].spans[0].parent_span_id == b""


def test_json_log_ids_and_severity() -> None:
    doc = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "7",
                                "traceId": TRACE_HEX,
                                "spanId": SPAN_HEX,
                                "severityNumber": "SEVERITY_NUMBER_WARN",
                                "severityText": "WARN",
                                "body": {"stringValue": "hi"},
                                "eventName": "e",
                            },
                            {"severity_number": 17, "trace_id": "", "span_id": SPAN_HEX},
                        ]
                    }
                ]
            }
        ]
    }
    records = json_request("logs", doc).resource_logs[0].scope_logs[0].log_records
    assert records[0].trace_id == bytes.fromhex(TRACE_HEX)
    assert records[0].span_id == bytes.fromhex(SPAN_HEX)
    assert records[0].severity_number == 13
    assert records[0].time_unix_nano == 7
    assert records[0].event_name == "e"
    assert records[1].severity_number == 17
    assert records[1].trace_id == b""
    assert records[1].span_id == bytes.fromhex(SPAN_HEX)


def test_json_metric_exemplar_ids_are_hex() -> None:
    exemplar = {"traceId": TRACE_HEX, "spanId": SPAN_HEX, "asDouble": 1.5, "timeUnixNano": "3"}
    doc = {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {"name": "g", "gauge": {"dataPoints": [{"asInt": "7", "exemplars": [exemplar]}]}},
                            {
                                "name": "s",
                                "sum": {
                                    "aggregationTemporality": 2,
                                    "isMonotonic": True,
                                    "data_points": [{"as_double": 2.5, "exemplars": [exemplar]}],
                                },
                            },
                            {
                                "name": "h",
                                "histogram": {
                                    "dataPoints": [{"count": "2", "bucketCounts": ["1", 1], "exemplars": [exemplar]}]
                                },
                            },
                            {
                                "name": "e",
                                "exponential_histogram": {"dataPoints": [{"scale": -1, "exemplars": [exemplar]}]},
                            },
                        ]
                    }
                ]
            }
        ]
    }
    metrics = json_request("metrics", doc).resource_metrics[0].scope_metrics[0].metrics
    points = [
        metrics[0].gauge.data_points[0],
        metrics[1].sum.data_points[0],
        metrics[2].histogram.data_points[0],
        metrics[3].exponential_histogram.data_points[0],
    ]
    for point in points:
        assert point.exemplars[0].trace_id == bytes.fromhex(TRACE_HEX)
        assert point.exemplars[0].span_id == bytes.fromhex(SPAN_HEX)
    assert points[0].as_int == 7
    assert points[1].as_double == 2.5
    assert list(points[2].bucket_counts) == [1, 1]
    assert points[3].scale == -1
    assert metrics[1].sum.is_monotonic and metrics[1].sum.aggregation_temporality == 2


@pytest.mark.parametrize(
    "span, field",
    [
        ({"traceId": "zz" * 16, "spanId": SPAN_HEX}, "traceId"),
        ({"traceId": TRACE_HEX[:-2], "spanId": SPAN_HEX}, "traceId"),
        ({"traceId": TRACE_HEX, "spanId": SPAN_HEX + "00"}, "spanId"),
        ({"traceId": TRACE_HEX, "spanId": "eee19b7e c3c1b17"}, "spanId"),  # fromhex would skip the space
        ({"traceId": TRACE_HEX, "spanId": SPAN_HEX, "parentSpanId": "not hex!"}, "parentSpanId"),
        ({"traceId": "W47/95gDgQPSabYzgT/GDA==", "spanId": SPAN_HEX}, "traceId"),  # base64 is not OTLP/JSON
        ({"traceId": 12345, "spanId": SPAN_HEX}, "traceId"),
        (
            {"traceId": TRACE_HEX, "spanId": SPAN_HEX, "links": [{"traceId": TRACE_HEX, "spanId": "abc"}]},
            "links[0].spanId",
        ),
    ],
)
def test_json_bad_ids_are_400_naming_the_field(span: dict, field: str) -> None:
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    with pytest.raises(InvalidPayload) as raised:
        json_request("traces", doc)
    assert type(raised.value) is InvalidPayload
    assert f"resourceSpans[0].scopeSpans[0].spans[0].{field}" in str(raised.value)


def test_json_bad_log_and_exemplar_ids_name_their_field() -> None:
    logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"spanId": "12"}]}]}]}
    with pytest.raises(InvalidPayload, match=r"logRecords\[0\]\.spanId"):
        json_request("logs", logs)
    metrics = {
        "resourceMetrics": [
            {"scopeMetrics": [{"metrics": [{"gauge": {"dataPoints": [{"exemplars": [{"traceId": "xyz"}]}]}}]}]}
        ]
    }
    with pytest.raises(InvalidPayload, match=r"gauge\.dataPoints\[0\]\.exemplars\[0\]\.traceId"):
        json_request("metrics", metrics)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe{}",
        b"[1, 2]",
        b'"a string"',
        b'{"resourceSpans": 5}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
    ],
)
def test_invalid_json_is_400(body: bytes) -> None:
    with pytest.raises(InvalidPayload) as raised:
        decode_request("traces", body, JS, None, Limits())
    assert type(raised.value) is InvalidPayload
    assert str(raised.value)


def test_json_unknown_enum_names_are_ignored_like_unknown_fields() -> None:
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "x", "kind": "SPAN_KIND_FROM_THE_FUTURE"}]}]}]}
    span = json_request("traces", doc).resource_spans[0].scope_spans[0].spans[0]
    assert (span.name, span.kind) == ("x", Span.SPAN_KIND_UNSPECIFIED)


# --- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signal, response_type, field",
    [
        ("traces", ExportTraceServiceResponse, "rejected_spans"),
        ("logs", ExportLogsServiceResponse, "rejected_log_records"),
        ("metrics", ExportMetricsServiceResponse, "rejected_data_points"),
    ],
)
def test_protobuf_responses(signal: str, response_type, field: str) -> None:  # noqa: ANN001
    plain = response_type.FromString(response_body(signal, False))
    assert not plain.HasField("partial_success")
    partial = response_type.FromString(response_body(signal, False, 3, "3 spans rejected: bad ids"))
    assert partial.HasField("partial_success")
    assert getattr(partial.partial_success, field) == 3
    assert partial.partial_success.error_message == "3 spans rejected: bad ids"
    warning_only = response_type.FromString(response_body(signal, False, 0, "heads up"))
    assert warning_only.partial_success.error_message == "heads up"
    assert getattr(warning_only.partial_success, field) == 0


@pytest.mark.parametrize(
    "signal, key",
    [("traces", "rejectedSpans"), ("logs", "rejectedLogRecords"), ("metrics", "rejectedDataPoints")],
)
def test_json_responses_are_otlp_json(signal: str, key: str) -> None:
    assert json.loads(response_body(signal, True)) == {}
    doc = json.loads(response_body(signal, True, 2, "two bad"))
    assert set(doc) == {"partialSuccess"}
    assert int(doc["partialSuccess"][key]) == 2
    assert doc["partialSuccess"]["errorMessage"] == "two bad"


def test_status_bodies_carry_the_rpc_code_and_message() -> None:
    status = status_pb2.Status.FromString(status_body(400, "bad ids", False))
    assert (status.code, status.message) == (3, "bad ids")  # INVALID_ARGUMENT
    assert status_pb2.Status.FromString(status_body(503, "busy", False)).code == 14  # UNAVAILABLE
    assert status_pb2.Status.FromString(status_body(413, "big", False)).code == 8  # RESOURCE_EXHAUSTED
    assert status_pb2.Status.FromString(status_body(418, "?", False)).code == 2  # UNKNOWN
    assert status_pb2.Status.FromString(status_body(3, "rpc code as is", False)).code == 3
    doc = json.loads(status_body(415, "no such encoding", True))
    assert doc == {"code": 12, "message": "no such encoding"}


@pytest.mark.parametrize(
    "content_type, expected",
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/x-protobuf", False),
        ("text/json", False),
        ("", False),
        (None, False),
    ],
)
def test_wants_json(content_type: str | None, expected: bool) -> None:
    assert wants_json(content_type) is expected
