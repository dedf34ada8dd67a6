"""Limits per request and per item, on real requests through a real collector: refused clearly, the rest stored."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlparse

from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse


def _post(url, body, content_type="application/x-protobuf"):
    parsed = urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    return response.status, response.read()


def _request(spans):
    request = ExportTraceServiceRequest()
    ss = request.resource_spans.add().scope_spans.add()
    for i, attributes in enumerate(spans):
        span = ss.spans.add(name=f"s{i}", trace_id=bytes(range(1, 17)), span_id=bytes([i + 1] * 8))
        for key, value in attributes.items():
            kv = span.attributes.add(key=key)
            if isinstance(value, int):  # nest `value` levels of arrays
                target = kv.value
                for _ in range(value):
                    target = target.array_value.values.add()
                target.string_value = "leaf"
            else:
                kv.value.string_value = value
    return request


def test_items_over_a_limit_are_refused_alone(make_collector):
    collector = make_collector(max_attributes=4, max_attribute_value_bytes=100, max_attribute_depth=3)
    request = _request([
        {"ok": "fine"},
        {f"k{i}": "v" for i in range(5)},  # too many attributes
        {"big": "x" * 101},                # value too long
        {"deep": 5},                       # nested too deep
        {"shallow": 1},
    ])
    status, body = _post(f"{collector.http_url}/v1/traces", request.SerializeToString())
    assert status == 200
    partial = ExportTraceServiceResponse.FromString(body).partial_success
    assert partial.rejected_spans == 3
    for words in ("attributes are over the 4 limit", "over the 100 limit", "deeper than 3"):
        assert words in partial.error_message
    health = json.load(__import__("urllib.request").request.urlopen(f"{collector.http_url}/healthz"))
    assert health["metrics"]["rejected"]["over_limit"] == 3


def test_too_many_items_is_413(make_collector):
    collector = make_collector(max_items_per_request=10)
    status, body = _post(f"{collector.http_url}/v1/traces", _request([{}] * 11).SerializeToString())
    assert status == 413 and "smaller batches" in Status.FromString(body).message


def test_deeply_nested_json_is_a_clear_400(collector):
    depth = 5000  # deeper than Python's recursion limit: the decoder must not crash
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"x"}' + "]}}" * depth
    body = ('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"' + "01" * 16 + '","spanId":"' + "01" * 8
            + '","name":"deep","attributes":[{"key":"k","value":' + value + "}]}]}]}]}")
    status, data = _post(f"{collector.http_url}/v1/traces", body.encode(), "application/json")
    assert status == 400 and json.loads(data)["message"]


def test_values_nest_as_deep_as_the_store_keeps_whole_and_no_deeper(collector, ch):
    """By default a value may nest VALUE_DEPTH levels, the depth the engine reads whole: one that deep is stored as
    its JSON, one a level deeper is refused by name (never stored as an emptied string)."""
    from aitrail.collector.limits import VALUE_DEPTH

    request = _request([{"kept": VALUE_DEPTH - 1}, {"refused": VALUE_DEPTH}])
    status, body = _post(f"{collector.http_url}/v1/traces", request.SerializeToString())
    assert status == 200
    partial = ExportTraceServiceResponse.FromString(body).partial_success
    assert partial.rejected_spans == 1 and f"'refused': values nest deeper than {VALUE_DEPTH}" in partial.error_message
    nested: object = "leaf"
    for _ in range(VALUE_DEPTH - 1):
        nested = [nested]
    stored = ch.query("SELECT SpanAttributes FROM aitrail.otel_traces").result_rows
    assert [row[0].get("kept") for row in stored] == [json.dumps(nested, separators=(",", ":"))]


def test_a_links_attributes_are_limited_like_the_spans_own(collector):
    """A link's value nesting past the depth the engine stores whole refuses its span, as a span attribute would."""
    from aitrail.collector.limits import VALUE_DEPTH

    request = _request([{"ok": "fine"}, {"also": "fine"}])
    link = request.resource_spans[0].scope_spans[0].spans[1].links.add(trace_id=bytes(range(2, 18)),
                                                                       span_id=bytes([9] * 8))
    target = link.attributes.add(key="nested").value
    for _ in range(VALUE_DEPTH):
        target = target.array_value.values.add()
    target.string_value = "leaf"
    status, body = _post(f"{collector.http_url}/v1/traces", request.SerializeToString())
    assert status == 200
    partial = ExportTraceServiceResponse.FromString(body).partial_success
    assert partial.rejected_spans == 1 and f"'nested': values nest deeper than {VALUE_DEPTH}" in partial.error_message


def test_a_logs_scope_attributes_count_in_the_depth_and_are_limited_like_the_resource():
    """otel_logs keeps the scope's attributes: the engine must read them as deep as they nest."""
    import pytest
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    from aitrail.collector.limits import ItemLimits, enforce
    from aitrail.errors import InvalidPayload

    request = ExportLogsServiceRequest()
    scope_logs = request.resource_logs.add().scope_logs.add()
    scope_logs.log_records.add(time_unix_nano=1)
    assert enforce("logs", request, ItemLimits()).depth == 1
    value = scope_logs.scope.attributes.add(key="nested").value
    value.array_value.values.add().array_value.values.add().string_value = "three levels"
    assert enforce("logs", request, ItemLimits()).depth == 3
    with pytest.raises(InvalidPayload, match="scope attribute 'nested'"):
        enforce("logs", request, ItemLimits(max_depth=2))
