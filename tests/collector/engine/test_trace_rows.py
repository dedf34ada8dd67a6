"""Spans -> otel_traces rows: requests spooled as the collector spools them, stored by the engine in a real
chDB store, read back field by field.

Expected values come from the SDK's own span objects (ids as integers, times
in ns) or are written out by hand, never from the code under test.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags, TraceState

import engine_equality

from aitrail.collector.engine import traces

T0 = 1_760_000_000_123_456_789  # 2025-10-09, with every nanosecond digit used

SPAN_ATTRIBUTES = {
    "http.method": "POST",
    "http.status_code": 402,
    "retry": True,
    "cached": False,
    "ratio": 0.25,
    "whole": 3.0,
    "big": 1e21,
    "tiny": 1e-7,
    "neg": -7,
    "tags": ["a", "b<c>"],
    "codes": [1, -2],
    "flags": [True, False],
    "weights": [0.5, 2.0],
}
# What the contrib exporter (pcommon.Value.AsString) writes for each, by hand.
SPAN_ATTRIBUTES_AS_STRINGS = {
    "http.method": "POST",
    "http.status_code": "402",
    "retry": "true",
    "cached": "false",
    "ratio": "0.25",
    "whole": "3",
    "big": "1e+21",
    "tiny": "1e-7",
    "neg": "-7",
    "tags": '["a","b\\u003cc\\u003e"]',
    "codes": "[1,-2]",
    "flags": "[true,false]",
    "weights": "[0.5,2]",
}

SELECT = """
SELECT
    toUnixTimestamp64Nano(Timestamp) AS StartNs,
    TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
    ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
    arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventNs,
    Events.Name AS EventNames, Events.Attributes AS EventAttributes,
    Links.TraceId AS LinkTraceIds, Links.SpanId AS LinkSpanIds,
    Links.TraceState AS LinkTraceStates, Links.Attributes AS LinkAttributes
FROM aitrail.otel_traces
"""


def read_back(store) -> dict[str, dict[str, Any]]:  # noqa: ANN001
    rows = store.rows(SELECT + " ORDER BY SpanName")
    for row in rows:
        row["StartNs"] = int(row["StartNs"])
        row["Duration"] = int(row["Duration"])
        row["EventNs"] = [int(t) for t in row["EventNs"]]
        row["Tenant"] = row["ResourceAttributes"].pop("aitrail.tenant.id")  # stamped by the engine
    return {row["SpanName"]: row for row in rows}


def spool(request: ExportTraceServiceRequest):  # noqa: ANN201
    """What the collector spools of ``request`` (tenant "default"), as its pipeline does."""
    return engine_equality.spool("traces", traces.to_spool, request)


def insert(store, request: ExportTraceServiceRequest):  # noqa: ANN001, ANN201
    return engine_equality.store_spooled(store, spool(request))


def hex32(value: int) -> str:
    return format(value, "032x")


def hex16(value: int) -> str:
    return format(value, "016x")


def test_columns_are_the_tables_columns_in_order(store) -> None:  # noqa: ANN001
    described = store.rows("DESCRIBE TABLE aitrail.otel_traces")
    expected = [r["name"] for r in described if r["default_type"] not in ("ALIAS", "DEFAULT", "MATERIALIZED")]
    assert list(traces.COLUMNS) == expected


def test_sdk_spans_round_trip_through_clickhouse(store) -> None:  # noqa: ANN001
    exporter = InMemorySpanExporter()
    resource = Resource.create({"service.name": "checkout", "deployment.environment": "test", "host.cpus": 8})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("aitrail.tests", "2.0.1")

    remote_parent = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "v1")]),
    )
    linked = SpanContext(
        trace_id=0x00000000000000000000000000ABCDEF,
        span_id=0x0000000000000123,
        is_remote=True,
        trace_state=TraceState([("l", "2")]),
    )
    parent_ctx = trace.set_span_in_context(NonRecordingSpan(remote_parent))
    root = tracer.start_span(
        "request",
        context=parent_ctx,
        kind=SpanKind.SERVER,
        attributes=SPAN_ATTRIBUTES,
        links=[Link(linked, {"link.kind": "follows", "n": 1})],
        start_time=T0,
    )
    root.add_event("retry", {"attempt": 2, "backoff": 0.5}, timestamp=T0 + 10)
    root.add_event("gave up", timestamp=T0 + 20)
    root.set_status(trace.Status(StatusCode.ERROR, "payment declined"))
    child = tracer.start_span("db", context=trace.set_span_in_context(root), kind=SpanKind.CLIENT, start_time=T0 + 5)
    child.set_status(trace.Status(StatusCode.OK))
    child.end(end_time=T0 + 15)
    for offset, kind in enumerate((SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL)):
        other = tracer.start_span(f"kind-{kind.name}", kind=kind, start_time=T0 + offset)
        other.end(end_time=T0 + offset)  # zero duration
    root.end(end_time=T0 + 1_000_000)
    provider.shutdown()
    finished = {span.name: span for span in exporter.get_finished_spans()}

    flattened = insert(store, encode_spans(list(finished.values())))
    assert (flattened.rejected, flattened.errors) == (0, [])
    rows = read_back(store)
    assert set(rows) == set(finished)

    resource_expected = {k: v for k, v in resource.attributes.items() if isinstance(v, str)}
    resource_expected["host.cpus"] = "8"
    assert set(resource_expected) == set(resource.attributes)

    for name, span in finished.items():
        row = rows[name]
        assert row["TraceId"] == hex32(span.context.trace_id)
        assert row["SpanId"] == hex16(span.context.span_id)
        assert row["ParentSpanId"] == (hex16(span.parent.span_id) if span.parent else "")
        assert row["StartNs"] == span.start_time
        assert row["Duration"] == span.end_time - span.start_time
        assert row["SpanKind"] == span.kind.name.title()
        assert row["StatusCode"] == span.status.status_code.name.title()
        assert row["StatusMessage"] == (span.status.description or "")
        assert row["ServiceName"] == "checkout"
        assert row["ResourceAttributes"] == resource_expected
        assert row["Tenant"] == "default"  # the tenant spooled beside the request
        assert (row["ScopeName"], row["ScopeVersion"]) == ("aitrail.tests", "2.0.1")
        assert row["EventNames"] == [event.name for event in span.events]
        assert row["EventNs"] == [event.timestamp for event in span.events]
        assert row["LinkTraceIds"] == [hex32(link.context.trace_id) for link in span.links]
        assert row["LinkSpanIds"] == [hex16(link.context.span_id) for link in span.links]

    request = rows["request"]
    assert request["TraceId"] == "0af7651916cd43dd8448eb211c80319c"
    assert request["ParentSpanId"] == "b7ad6b7169203331"
    assert request["TraceState"] == "vendor=v1"
    assert request["SpanKind"] == "Server"
    assert request["StatusCode"] == "Error"
    assert request["StatusMessage"] == "payment declined"
    assert request["Duration"] == 1_000_000
    assert request["SpanAttributes"] == SPAN_ATTRIBUTES_AS_STRINGS
    assert request["EventNs"] == [T0 + 10, T0 + 20]
    assert request["EventAttributes"] == [{"attempt": "2", "backoff": "0.5"}, {}]
    assert request["LinkTraceIds"] == ["00000000000000000000000000abcdef"]
    assert request["LinkSpanIds"] == ["0000000000000123"]
    assert request["LinkTraceStates"] == [""]  # the Python OTLP encoder does not send a link's trace state
    assert request["LinkAttributes"] == [{"link.kind": "follows", "n": "1"}]

    db = rows["db"]
    assert db["ParentSpanId"] == request["SpanId"]
    assert db["TraceId"] == request["TraceId"]
    assert (db["SpanKind"], db["StatusCode"], db["Duration"]) == ("Client", "Ok", 10)
    assert db["SpanAttributes"] == {} and db["EventNames"] == [] and db["LinkTraceIds"] == []

    assert rows["kind-PRODUCER"]["SpanKind"] == "Producer"
    assert rows["kind-CONSUMER"]["SpanKind"] == "Consumer"
    assert rows["kind-INTERNAL"]["SpanKind"] == "Internal"
    assert rows["kind-INTERNAL"]["StatusCode"] == "Unset"
    assert rows["kind-INTERNAL"]["Duration"] == 0

    # The trace id -> time range view is fed by these rows like by any other writer.
    ranges = store.rows("SELECT TraceId FROM aitrail.otel_traces_trace_id_ts GROUP BY TraceId ORDER BY TraceId")
    assert {r["TraceId"] for r in ranges} == {hex32(s.context.trace_id) for s in finished.values()}


def kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def good_span(name: str, **fields: Any) -> Span:
    values: dict[str, Any] = dict(
        name=name,
        trace_id=bytes.fromhex("11112222333344445555666677778888"),
        span_id=bytes.fromhex("aaaabbbbccccdddd"),
        start_time_unix_nano=T0,
        end_time_unix_nano=T0 + 1,
    )
    values.update(fields)
    return Span(**values)


def test_spans_with_invalid_ids_are_rejected_and_the_rest_kept(store) -> None:  # noqa: ANN001
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    spans.extend(
        [
            good_span("kept", parent_span_id=bytes(8)),  # all-zero parent = root span
            good_span("kept-with-parent", parent_span_id=bytes.fromhex("0102030405060708")),
            good_span("no-trace-id", trace_id=b""),
            good_span("zero-trace-id", trace_id=bytes(16)),
            good_span("short-trace-id", trace_id=b"\x01" * 15),
            good_span("no-span-id", span_id=b""),
            good_span("zero-span-id", span_id=bytes(8)),
            good_span("long-span-id", span_id=b"\x01" * 9),
            good_span("bad-parent", parent_span_id=b"\x01\x02\x03"),
            good_span("bad-link", links=[Span.Link(trace_id=b"\x01" * 16, span_id=b"\x01" * 7)]),
            good_span(
                "empty-link-ids",
                links=[Span.Link(trace_id=b"", span_id=bytes(8), trace_state="t=1")],
            ),
        ]
    )
    flattened = insert(store, request)
    assert flattened.rejected == 8
    assert sorted(flattened.errors) == sorted(
        [
            "3 spans rejected: invalid trace_id (must be 16 bytes, not all zero)",
            "3 spans rejected: invalid span_id (must be 8 bytes, not all zero)",
            "1 span rejected: invalid parent_span_id (must be empty or 8 bytes)",
            "1 span rejected: invalid link trace_id/span_id (must be empty, 16 and 8 bytes)",
        ]
    )
    rows = read_back(store)
    assert set(rows) == {"kept", "kept-with-parent", "empty-link-ids"}
    assert rows["kept"]["TraceId"] == "11112222333344445555666677778888"
    assert rows["kept"]["SpanId"] == "aaaabbbbccccdddd"
    assert rows["kept"]["ParentSpanId"] == ""
    assert rows["kept-with-parent"]["ParentSpanId"] == "0102030405060708"
    assert rows["empty-link-ids"]["LinkTraceIds"] == [""]
    assert rows["empty-link-ids"]["LinkSpanIds"] == [""]
    assert rows["empty-link-ids"]["LinkTraceStates"] == ["t=1"]


def test_attribute_values_of_every_type_as_the_exporter_writes_them(store) -> None:  # noqa: ANN001
    nested = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                kv("z", array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(double_value=2.5)])),
                kv("a", string_value="x&y"),
                kv("m", kvlist_value=KeyValueList(values=[kv("inner", bool_value=True)])),
            ]
        )
    )
    span = good_span(
        "typed",
        attributes=[
            kv("str", string_value="héllo ☃"),
            kv("empty.str", string_value=""),
            kv("int", int_value=-9223372036854775808),
            kv("bool", bool_value=False),
            kv("double", double_value=100.0),
            kv("nan", double_value=math.nan),
            kv("inf", double_value=-math.inf),
            kv("bytes", bytes_value=b"\x00\xffhi"),
            kv("kvlist", kvlist_value=nested.kvlist_value),
            kv("array.nan", array_value=ArrayValue(values=[AnyValue(double_value=math.nan)])),
            KeyValue(key="unset"),
            kv("dup", string_value="first"),
            kv("dup", int_value=2),
        ],
    )
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.append(span)
    insert(store, request)
    assert read_back(store)["typed"]["SpanAttributes"] == {
        "str": "héllo ☃",
        "empty.str": "",
        "int": "-9223372036854775808",
        "bool": "false",
        "double": "100",
        "nan": "json: unsupported value: NaN",
        "inf": "json: unsupported value: -Inf",
        "bytes": "AP9oaQ==",
        "kvlist": '{"a":"x\\u0026y","m":{"inner":true},"z":[1,2.5]}',
        "array.nan": "",
        "unset": "",
        "dup": "2",
    }


def test_odd_values_in_the_span_fields(store) -> None:  # noqa: ANN001
    request = ExportTraceServiceRequest()
    first = request.resource_spans.add()
    first.resource.attributes.append(kv("service.name", int_value=5))
    first.schema_url = "https://opentelemetry.io/schemas/1.21.0"
    scope_spans = first.scope_spans.add()
    scope_spans.spans.extend(
        [
            good_span("unknown-kind-and-code", kind=9, status=Status(code=7, message="?")),
            good_span("ends-before-it-starts", start_time_unix_nano=T0, end_time_unix_nano=T0 - 5),
            good_span("far-future", start_time_unix_nano=(1 << 64) - 1, end_time_unix_nano=(1 << 64) - 1),
            good_span("epoch", start_time_unix_nano=0, end_time_unix_nano=0),
        ]
    )
    second = request.resource_spans.add()  # no resource, no scope
    second.scope_spans.add().spans.append(
        good_span("bare", kind=Span.SPAN_KIND_PRODUCER, status=Status(code=Status.STATUS_CODE_ERROR))
    )
    insert(store, request)
    rows = read_back(store)
    odd = rows["unknown-kind-and-code"]
    assert (odd["SpanKind"], odd["StatusCode"], odd["StatusMessage"]) == ("", "", "?")
    assert odd["ServiceName"] == "5"
    assert odd["ResourceAttributes"] == {"service.name": "5"}
    assert rows["ends-before-it-starts"]["Duration"] == 0
    assert rows["far-future"]["StartNs"] == (1 << 63) - 1  # DateTime64(9) ends in 2262
    assert rows["epoch"]["StartNs"] == 0
    bare = rows["bare"]
    assert (bare["ServiceName"], bare["ResourceAttributes"]) == ("", {})
    assert (bare["ScopeName"], bare["ScopeVersion"]) == ("", "")
    assert (bare["SpanKind"], bare["StatusCode"]) == ("Producer", "Error")


def test_resources_and_scopes_stay_with_their_spans(store) -> None:  # noqa: ANN001
    request = ExportTraceServiceRequest()
    for service in ("alpha", "beta"):
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.append(kv("service.name", string_value=service))
        for scope in ("s1", "s2"):
            scope_spans = resource_spans.scope_spans.add()
            scope_spans.scope.name = f"{service}.{scope}"
            scope_spans.scope.version = scope
            for n in range(3):
                scope_spans.spans.append(good_span(f"{service}-{scope}-{n}", attributes=[kv("n", int_value=n)]))
    flattened = insert(store, request)
    assert flattened.tables[traces.ENTRIES[False]].num_rows == 12
    for name, row in read_back(store).items():
        service, scope, n = name.split("-")
        assert row["ServiceName"] == service
        assert row["ResourceAttributes"] == {"service.name": service}
        assert (row["ScopeName"], row["ScopeVersion"]) == (f"{service}.{scope}", scope)
        assert row["SpanAttributes"] == {"n": n}


@pytest.mark.parametrize("request_", [ExportTraceServiceRequest(), ExportTraceServiceRequest(resource_spans=[{}])])
def test_requests_without_spans_spool_nothing(request_: ExportTraceServiceRequest) -> None:
    flattened = spool(request_)
    assert (flattened.tables, flattened.rejected, flattened.errors) == ({}, 0, [])
