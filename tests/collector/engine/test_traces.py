"""The engine's otel_traces rows equal the Python flattener's, row for row, on every corpus we have.

The same requests go both ways: through the tenant stamp and the Python
flattener the collector used before (``reference_traces.spans_to_table``,
kept as the reference), and as the collector spools them through
``engine.traces``' SQL in chDB (each request to the common statement or, when
its values nest past the common depth, to the deep one). Both land in scratch copies
of ``otel_traces`` and are read back the same way; they must be equal: the
fuzzing corpus (every value type, nesting, NaN and infinities, odd strings,
out-of-range times), the secret corpus (in values, arrays, lists, events,
resources), SDK spans (events, links, kinds, statuses), refused ids, duplicate
keys and a payload's tenant and team claims.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode
import engine_equality
from otlp_corpus import valid_traces
from reference_traces import spans_to_table
from secret_corpus import corpus

from aitrail.collector.engine import traces
from aitrail.collector.engine.schema import SHALLOW_DEPTH
from aitrail.collector.spool import Requests
from aitrail.sdk import vocabulary as v

T0 = 1_760_000_000_123_456_789


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def sdk_request() -> ExportTraceServiceRequest:
    """Spans made by the OpenTelemetry SDK: events, links, kinds, statuses, typed attributes."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout", "host.cpus": 8,
                                                        "team": "sent-by-payload"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("aitrail.tests", "2.0.1")
    linked = SpanContext(trace_id=0xABCDEF, span_id=0x123, is_remote=True)
    root = tracer.start_span("request", kind=SpanKind.SERVER, start_time=T0, links=[Link(linked, {"n": 1})],
                             attributes={"ratio": 0.25, "whole": 3.0, "big": 1e21, "tiny": 1e-7, "tags": ["a", "b<c>"],
                                         "codes": [1, -2], "flags": [True, False], "weights": [0.5, 2.0],
                                         v.TENANT: "claimed", v.TEAM: "claimed-team"})
    root.add_event("retry", {"attempt": 2, "backoff": 0.5}, timestamp=T0 + 10)
    root.set_status(trace.Status(StatusCode.ERROR, "declined"))
    child = tracer.start_span("db", context=trace.set_span_in_context(root), kind=SpanKind.CLIENT, start_time=T0 + 5)
    child.set_status(trace.Status(StatusCode.OK))
    child.end(end_time=T0 + 15)
    root.end(end_time=T0 + 30)
    return encode_spans(exporter.get_finished_spans())


def typed_request() -> ExportTraceServiceRequest:
    """Every value type by hand, nested lists with duplicate keys, refused ids, odd kinds and times."""
    nested = KeyValueList(values=[
        _kv("z", array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(double_value=2.5)])),
        _kv("a", string_value="x&y\u2028\"\\\x07"), _kv("a", string_value="last wins"),
        _kv("m", kvlist_value=KeyValueList(values=[_kv("inner", bool_value=True), _kv("b", bytes_value=b"")])),
        _kv("é", bytes_value=b"\x00\xff"), KeyValue(key="unset"),
    ])
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend([_kv(v.TENANT, string_value="other"), _kv("service.name", int_value=7),
                                               _kv("team.name", string_value="alias claim")])
    spans = resource_spans.scope_spans.add().spans
    good = {"trace_id": b"\x01" * 16, "span_id": b"\x02" * 8}
    spans.add(name="typed", kind=9, start_time_unix_nano=2**64 - 1, end_time_unix_nano=1, **good).attributes.extend([
        _kv("str", string_value="héllo ☃"), _kv("empty", string_value=""), _kv("int", int_value=-(2**63)),
        _kv("bool", bool_value=False), _kv("double", double_value=100.0), _kv("nan", double_value=math.nan),
        _kv("inf", double_value=-math.inf), _kv("pinf", double_value=math.inf), _kv("bytes", bytes_value=b"\x00\xffhi"),
        _kv("kvlist", kvlist_value=nested), _kv("array.nan", array_value=ArrayValue(values=[AnyValue(double_value=math.nan)])),
        _kv("array.empty", array_value=ArrayValue()), KeyValue(key="unset"), _kv("dup", string_value="first"),
        _kv("dup", int_value=2), _kv("small", double_value=1.2345678901234567e-5), _kv("e300", double_value=1.5e300),
    ])
    spans.add(name="parented", parent_span_id=b"\x03" * 8, trace_id=b"\x04" * 16, span_id=b"\x05" * 8)
    spans.add(name="zero-parent", parent_span_id=bytes(8), trace_id=b"\x04" * 16, span_id=b"\x06" * 8)
    spans.add(name="zero link ids", trace_id=b"\x04" * 16, span_id=b"\x07" * 8).links.add(trace_id=bytes(16))
    spans.add(name="short trace id", trace_id=b"\x01" * 15, span_id=b"\x02" * 8)
    spans.add(name="zero span id", trace_id=b"\x01" * 16, span_id=bytes(8))
    spans.add(name="bad parent", trace_id=b"\x01" * 16, span_id=b"\x02" * 8, parent_span_id=b"\x01")
    spans.add(name="bad link", trace_id=b"\x01" * 16, span_id=b"\x02" * 8).links.add(trace_id=b"\x01")
    return request


def secret_request() -> ExportTraceServiceRequest:
    """Every fake secret as a value, inside an array and a list, on an event and on the resource."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    spans = resource_spans.scope_spans.add().spans
    for i, secret in enumerate(corpus()):
        resource_spans.resource.attributes.add(key=f"r{i}").value.string_value = secret.line
        span = spans.add(name=secret.name, trace_id=i.to_bytes(16, "big") or b"\x01", span_id=(i + 1).to_bytes(8, "big"))
        span.attributes.extend([
            _kv("prompt", string_value=secret.line),
            _kv("lines", array_value=ArrayValue(values=[AnyValue(string_value=secret.line)])),
            _kv("env", kvlist_value=KeyValueList(values=[_kv("SECRET", string_value=secret.line)])),
        ])
        span.events.add(name="said", time_unix_nano=T0).attributes.append(_kv("text", string_value=secret.line))
    return request


def fuzz_requests(count: int) -> list[ExportTraceServiceRequest]:
    rng = random.Random(15)
    return [valid_traces(rng, f"fuzz-{i}") for i in range(count)]


def _read(store: Any, table: str) -> list[dict[str, Any]]:
    rows = store.rows(f"SELECT *, toUnixTimestamp64Nano(Timestamp) AS ns, "
                      f"arrayMap(t -> toUnixTimestamp64Nano(t), `Events.Timestamp`) AS event_ns FROM {table} "
                      "ORDER BY TraceId, SpanId, SpanName, ns")
    for row in rows:
        del row["Timestamp"], row["Events.Timestamp"]
    return rows


def spooled(requests: list[ExportTraceServiceRequest], tenant: str, team: str | None) -> dict[str, Requests]:
    return engine_equality.spooled("traces", traces.to_spool, requests, tenant, team)


def both_ways(store: Any, requests: list[ExportTraceServiceRequest], tenant: str,
              team: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str]]:
    """(rows the Python path stores, rows the engine stores, the statements used) for the same requests."""
    return engine_equality.both_ways(store, "traces", traces.TABLE, spans_to_table, traces.to_spool, _read, requests,
                                     tenant, team)


def test_only_values_nesting_past_the_common_depth_go_to_the_deep_statement() -> None:
    common, deep = traces.ENTRIES[False], traces.ENTRIES[True]
    assert set(spooled([sdk_request(), secret_request()], "acme", None)) == {common}  # lists of scalars
    for place in ("span", "event", "link", "resource"):
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        span = resource_spans.scope_spans.add().spans.add(name=place, trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
        attributes = {"span": span.attributes, "event": span.events.add().attributes,
                      "link": span.links.add().attributes, "resource": resource_spans.resource.attributes}[place]
        attributes.add(key="shallow").value.CopyFrom(engine_equality.nesting(SHALLOW_DEPTH))
        assert set(spooled([request], "acme", None)) == {common}, place
        attributes.add(key="deep").value.CopyFrom(engine_equality.nesting(SHALLOW_DEPTH + 1))
        assert set(spooled([request], "acme", None)) == {deep}, place
        empty = ExportTraceServiceRequest.FromString(request.SerializeToString())  # an empty list, one level in
        empty_attributes = {"span": empty.resource_spans[0].scope_spans[0].spans[0].attributes,
                            "event": empty.resource_spans[0].scope_spans[0].spans[0].events[0].attributes,
                            "link": empty.resource_spans[0].scope_spans[0].spans[0].links[0].attributes,
                            "resource": empty.resource_spans[0].resource.attributes}[place]
        del empty_attributes[-1]
        empty_attributes.add(key="empty").value.array_value.values.add().array_value.SetInParent()
        assert set(spooled([empty], "acme", None)) == {deep}, place


@pytest.mark.parametrize("team", [None, "payments"])
def test_engine_rows_equal_the_python_rows(store, team: str | None) -> None:  # noqa: ANN001
    requests = [typed_request(), sdk_request(), secret_request(), *fuzz_requests(150)]
    python_rows, engine_rows, statements = both_ways(store, requests, "acme", team)
    assert statements == set(traces.ENTRIES.values())  # both statements had requests to take
    names = {row["SpanName"] for row in python_rows}
    assert {"typed", "parented", "request", "db", "fuzz-0"} <= names  # every corpus stored rows
    assert not {"short trace id", "zero span id", "bad parent", "bad link"} & names  # and refused what it must
    assert len(engine_rows) == len(python_rows)
    for python_row, engine_row in zip(python_rows, engine_rows):
        assert engine_row == python_row
