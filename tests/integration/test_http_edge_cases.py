"""OTLP/HTTP as the specification words it: encodings, chunking, JSON spellings, and every refusal with its status."""

from __future__ import annotations

import gzip
import http.client
import json
import zlib
from urllib.parse import urlparse

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def post(url, body, content_type="application/x-protobuf", encoding=None, chunked=False):
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    if chunked:
        conn.request("POST", parsed.path, body=iter([body[: len(body) // 2], body[len(body) // 2 :]]), headers=headers, encode_chunked=True)
    else:
        conn.request("POST", parsed.path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type"), data, response


def request_bytes(name="s", trace=TRACE, span=SPAN, spans=1):
    request = ExportTraceServiceRequest()
    ss = request.resource_spans.add().scope_spans.add()
    for i in range(spans):
        s = ss.spans.add(name=f"{name}{i}" if spans > 1 else name, trace_id=bytes.fromhex(trace), span_id=bytes.fromhex(span))
        s.start_time_unix_nano, s.end_time_unix_nano = 1_700_000_000_000_000_000, 1_700_000_001_000_000_000
    return request.SerializeToString()


def json_body(kind, status_code, extra=None):
    span = {"traceId": TRACE, "spanId": SPAN, "name": "json-span", "kind": kind,
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000",
            "status": {"code": status_code, "message": "m"},
            "attributes": [{"key": "k", "value": {"stringValue": "v"}}]}
    span.update(extra or {})
    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "sc"}, "spans": [span]}]}]}).encode()


def rows(ch, sql="SELECT SpanName, TraceId, SpanId, SpanKind, StatusCode FROM aitrail.otel_traces ORDER BY SpanName"):
    return [tuple(r) for r in ch.query(sql).result_rows]


@pytest.mark.parametrize("encoding,compress", [
    (None, lambda b: b), ("gzip", gzip.compress), ("deflate", zlib.compress),
    ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send it
])
def test_encodings(collector, ch, encoding, compress):
    status, ctype, data, _ = post(f"{collector.http_url}/v1/traces", compress(request_bytes()), encoding=encoding)
    assert status == 200 and ctype == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(data).HasField("partial_success")
    assert rows(ch) == [("s", TRACE, SPAN, "Unspecified", "Unset")]


def test_chunked_body(collector, ch):
    status, _, _, _ = post(f"{collector.http_url}/v1/traces", gzip.compress(request_bytes()), encoding="gzip", chunked=True)
    assert status == 200
    assert rows(ch) == [("s", TRACE, SPAN, "Unspecified", "Unset")]


@pytest.mark.parametrize("content_type", ["application/x-protobuf", "application/json"])
def test_empty_request_is_fine(collector, ch, content_type):
    body = b"" if content_type == "application/x-protobuf" else b"{}"
    status, ctype, _, _ = post(f"{collector.http_url}/v1/traces", body, content_type)
    assert status == 200 and ctype == content_type
    assert rows(ch) == []


@pytest.mark.parametrize("kind,code", [(2, 2), ("SPAN_KIND_SERVER", "STATUS_CODE_ERROR")])
def test_json_hex_ids_and_both_enum_spellings(collector, ch, kind, code):
    status, ctype, data, _ = post(f"{collector.http_url}/v1/traces", json_body(kind, code), "application/json")
    assert status == 200 and ctype == "application/json"
    assert json.loads(data) == {} or "partialSuccess" not in json.loads(data)
    assert rows(ch) == [("json-span", TRACE, SPAN, "Server", "Error")]


def test_unknown_json_fields_are_ignored(collector, ch):
    body = json_body(3, 1, {"someFutureField": {"nested": [1, 2]}, "droppedAttributesCount": 0})
    status, _, _, _ = post(f"{collector.http_url}/v1/traces", body, "application/json")
    assert status == 200
    assert rows(ch) == [("json-span", TRACE, SPAN, "Client", "Ok")]


def test_malformed_protobuf_is_400_with_a_status_message(collector, ch):
    status, ctype, data, _ = post(f"{collector.http_url}/v1/traces", b"\xff\xff\xff\x0f garbage")
    assert status == 400 and ctype == "application/x-protobuf"
    message = Status.FromString(data).message
    assert message and "protobuf" in message.lower()
    assert rows(ch) == []


def test_malformed_json_is_400_in_json(collector):
    status, ctype, data, _ = post(f"{collector.http_url}/v1/traces", b"{not json", "application/json")
    assert status == 400 and ctype == "application/json"
    assert json.loads(data)["message"]


def test_bad_hex_id_in_json_is_400_naming_the_field(collector):
    body = json_body(1, 0, {"traceId": "zz" * 16})
    status, _, data, _ = post(f"{collector.http_url}/v1/traces", body, "application/json")
    assert status == 400 and "traceId" in json.loads(data)["message"]


def test_unknown_content_type_is_415(collector):
    status, _, data, _ = post(f"{collector.http_url}/v1/traces", b"hello", "text/plain")
    assert status == 415
    assert "application/x-protobuf" in Status.FromString(data).message


def test_unknown_encoding_is_415(collector):
    status, _, _, _ = post(f"{collector.http_url}/v1/traces", request_bytes(), encoding="br")
    assert status == 415


def test_body_over_the_limit_is_413(make_collector):
    collector = make_collector(max_body_bytes=1000)
    status, _, data, _ = post(f"{collector.http_url}/v1/traces", request_bytes(spans=50))
    assert status == 413 and "1000" in Status.FromString(data).message


def test_zip_bomb_is_413_after_decompression(make_collector):
    collector = make_collector(max_decompressed_bytes=1_000_000)
    bomb = gzip.compress(b"\x00" * 50_000_000)
    status, _, data, _ = post(f"{collector.http_url}/v1/traces", bomb, encoding="gzip")
    assert status == 413 and "1000000" in Status.FromString(data).message


def test_invalid_span_is_a_partial_success_and_the_rest_is_stored(collector, ch):
    request = ExportTraceServiceRequest.FromString(request_bytes(name="good"))
    bad = request.resource_spans[0].scope_spans[0].spans.add(name="bad", trace_id=b"\x01\x02", span_id=bytes.fromhex(SPAN))
    bad.start_time_unix_nano = 1
    status, _, data, _ = post(f"{collector.http_url}/v1/traces", request.SerializeToString())
    assert status == 200
    partial = ExportTraceServiceResponse.FromString(data).partial_success
    assert partial.rejected_spans == 1 and partial.error_message
    assert [r[0] for r in rows(ch)] == ["good"]


def test_backpressure_is_503_with_retry_after_and_nothing_stored(make_collector):
    collector = make_collector(max_pending_rows=3)
    status, _, data, response = post(f"{collector.http_url}/v1/traces", request_bytes(spans=10))
    assert status == 503 and response.getheader("Retry-After") == "1"
    assert "retry" in Status.FromString(data).message.lower()
    health = json.load(__import__("urllib.request").request.urlopen(f"{collector.http_url}/healthz"))
    assert health["metrics"]["rejected"]["backpressure"] == 1
    assert health["metrics"]["inserted"] == {}


def test_unknown_path_is_404(collector):
    status, _, _, _ = post(f"{collector.http_url}/v1/profiles", b"")
    assert status == 404
