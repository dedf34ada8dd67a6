"""Values that try to be SQL, control characters, huge numbers: stored faithfully; invalid UTF-8: refused clearly."""

from __future__ import annotations

import http.client
from urllib.parse import urlparse

from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

STRANGE = {
    "sql": "'); DROP TABLE aitrail.otel_traces; SELECT ('",
    "param": "{x:String} \\N \\t",
    "control": "\x00\x01\x07\x1b[31mred\x7f",
    "unicode": "ü日本\u202eevil\u200b🚀",
    "newlines": "a\nb\r\nc\t",
}


def _post(url, body):
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
    response = conn.getresponse()
    return response.status, response.read()


def _request(name, attributes=None, ints=None):
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(
        name=name, trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)))
    for key, value in (attributes or {}).items():
        span.attributes.add(key=key).value.string_value = value
    for key, value in (ints or {}).items():
        span.attributes.add(key=key).value.int_value = value
    return request


def test_strange_values_are_stored_as_sent(collector, ch):
    status, _ = _post(collector.http_url, _request("strange", STRANGE, {"max": 2**63 - 1, "min": -(2**63)})
                      .SerializeToString())
    assert status == 200
    attributes = ch.query("SELECT SpanAttributes FROM aitrail.otel_traces WHERE SpanName = 'strange'").first_row[0]
    assert {k: attributes[k] for k in STRANGE} == STRANGE
    assert attributes["max"] == str(2**63 - 1) and attributes["min"] == str(-(2**63))
    assert ch.query("SELECT count() FROM aitrail.otel_traces").first_row[0] == 1  # nothing was executed


def test_invalid_utf8_is_refused_clearly(collector, ch):
    body = bytearray(_request("PLACEHOLDER").SerializeToString())
    start = body.index(b"PLACEHOLDER")
    body[start : start + 2] = b"\xff\xfe"  # same length, no longer UTF-8
    status, data = _post(collector.http_url, bytes(body))
    assert status == 400 and Status.FromString(data).message
    assert ch.query("SELECT count() FROM aitrail.otel_traces").first_row[0] == 0
