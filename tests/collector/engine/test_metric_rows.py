"""Metric data points -> the otel_metrics_* tables: spooled as the collector spools them, stored by the engine into a
real chDB store, and read back field by field.

Expected values come from the SDK's own MetricsData (or hand-built protos), never from the code under test.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ExponentialHistogram,
    Gauge,
    Histogram,
    InMemoryMetricReader,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from aitrail.collector.engine import ingest, metrics
from aitrail.collector.limits import ItemLimits, enforce
from aitrail.sdk import vocabulary

T0 = 1_760_000_000_123_456_789
TENANT = "acme"
TABLES = ("gauge", "sum", "histogram", "exponential_histogram", "summary")

COMMON = """
    ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount,
    ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes,
    toUnixTimestamp64Nano(StartTimeUnix) AS StartNs, toUnixTimestamp64Nano(TimeUnix) AS Ns, Flags
"""
EXEMPLARS = """
    Exemplars.FilteredAttributes AS ExAttributes,
    arrayMap(t -> toUnixTimestamp64Nano(t), Exemplars.TimeUnix) AS ExNs,
    Exemplars.Value AS ExValues, Exemplars.SpanId AS ExSpanIds, Exemplars.TraceId AS ExTraceIds
"""
SELECTS = {
    "gauge": f"SELECT {COMMON}, Value, {EXEMPLARS} FROM aitrail.otel_metrics_gauge",
    "sum": f"SELECT {COMMON}, Value, {EXEMPLARS}, AggregationTemporality, IsMonotonic FROM aitrail.otel_metrics_sum",
    "histogram": f"""SELECT {COMMON}, Count, Sum, BucketCounts, ExplicitBounds, {EXEMPLARS},
        Min, Max, AggregationTemporality FROM aitrail.otel_metrics_histogram""",
    "exponential_histogram": f"""SELECT {COMMON}, Count, Sum, Scale, ZeroCount, PositiveOffset,
        PositiveBucketCounts, NegativeOffset, NegativeBucketCounts, {EXEMPLARS}, Min, Max, AggregationTemporality
        FROM aitrail.otel_metrics_exponential_histogram""",
    "summary": f"""SELECT {COMMON}, Count, Sum, ValueAtQuantiles.Quantile AS Quantiles,
        ValueAtQuantiles.Value AS QuantileValues FROM aitrail.otel_metrics_summary""",
}
INTEGERS = ("StartNs", "Ns", "Count", "ZeroCount", "ScopeDroppedAttrCount", "Flags")


def read_back(store, kind: str) -> dict[tuple[str, str], dict[str, Any]]:  # noqa: ANN001
    """Rows of one table, keyed by (metric name, attributes as sorted JSON)."""
    out = {}
    for row in store.rows(SELECTS[kind]):
        for name in INTEGERS:
            if name in row:
                row[name] = int(row[name])
        for name in ("BucketCounts", "PositiveBucketCounts", "NegativeBucketCounts"):
            if name in row:
                row[name] = [int(v) for v in row[name]]
        if "ExNs" in row:
            row["ExNs"] = [int(v) for v in row["ExNs"]]
        key = (row["MetricName"], json.dumps(row["Attributes"], sort_keys=True))
        assert key not in out
        out[key] = row
    return out


def key(name: str, attributes: dict[str, str]) -> tuple[str, str]:
    return (name, json.dumps(attributes, sort_keys=True))


def insert(store, request: ExportMetricsServiceRequest):  # noqa: ANN001, ANN201
    """Spool the request as the collector does (after its item limits) and store what it spooled."""
    flattened = metrics.to_spool(request, TENANT, None, enforce("metrics", request, ItemLimits()).depth)
    for part, requests in flattened.tables.items():
        ingest.insert(store, part, requests)
    return flattened


def as_strings(attributes: Any) -> dict[str, str]:
    """SDK attribute values here are str or int (ints print as decimal)."""
    return {k: v if isinstance(v, str) else str(v) for k, v in dict(attributes or {}).items()}


def test_each_statement_writes_every_column_of_its_table_in_order(store) -> None:  # noqa: ANN001
    request = ExportMetricsServiceRequest()
    added = request.resource_metrics.add().scope_metrics.add().metrics
    added.add(name="g").gauge.data_points.add(as_double=1)
    added.add(name="s").sum.data_points.add(as_int=1)
    added.add(name="h").histogram.data_points.add(count=1)
    added.add(name="e").exponential_histogram.data_points.add(count=1)
    added.add(name="q").summary.data_points.add(count=1)
    parts = insert(store, request).tables
    assert {ingest.table(part) for part in parts} == {f"otel_metrics_{kind}" for kind in TABLES}
    for kind in TABLES:
        statement = metrics.STATEMENTS[kind]
        described = store.rows(f"DESCRIBE TABLE aitrail.{statement.table}")
        expected = [r["name"] for r in described if r["default_type"] not in ("ALIAS", "DEFAULT", "MATERIALIZED")]
        assert list(statement.columns) == expected, kind
        assert len(read_back(store, kind)) == 1


def sdk_metrics() -> MetricsData:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        resource=Resource.create({"service.name": "claude-code", "host.arch": "arm64"}),
        views=[View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation(max_size=20))],
    )
    meter = provider.get_meter("com.anthropic.claude_code", "1.0.9")
    tokens = meter.create_counter("claude_code.token.usage", unit="tokens", description="Tokens used")
    cost = meter.create_counter("claude_code.cost.usage", unit="USD")
    sessions = meter.create_up_down_counter("sessions.active")
    latency = meter.create_histogram("latency", unit="ms", explicit_bucket_boundaries_advisory=[1.0, 10.0, 100.0])
    latency_exp = meter.create_histogram("latency.exp", unit="ms")
    temperature = meter.create_gauge("temperature", unit="Cel")

    def observe(_: CallbackOptions) -> list[Observation]:
        return [Observation(7, {"core": "0"}), Observation(9, {"core": "1"})]

    meter.create_observable_gauge("cpu.load", callbacks=[observe])

    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("turn"):  # sampled span: measurements inside get exemplars
        tokens.add(1200, {"type": "input", "model": "claude"})
        latency.record(42.0, {"route": "/v1"})
        latency_exp.record(0.5)
    tokens.add(300, {"type": "output", "model": "claude"})
    cost.add(0.0123, {"model": "claude"})
    sessions.add(2)
    sessions.add(-3)
    for value in (0.5, 5.0, 50.0, 500.0):
        latency.record(value, {"route": "/v1"})
    for value in (0.25, 3.0, 1000.0):
        latency_exp.record(value)
    latency_exp.record(0)
    temperature.set(21.5, {"room": "a"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def test_sdk_metrics_round_trip_through_clickhouse(store) -> None:  # noqa: ANN001
    data = sdk_metrics()
    flattened = insert(store, encode_metrics(data))
    assert (flattened.rejected, flattened.errors) == (0, [])
    assert not any(ingest.table(part) == "otel_metrics_summary" for part in flattened.tables)  # only kinds sent

    resource_metrics = data.resource_metrics[0]
    resource = {k: v for k, v in resource_metrics.resource.attributes.items()}
    assert all(isinstance(v, str) for v in resource.values())
    resource[vocabulary.TENANT] = TENANT  # stamped by the engine
    scope = resource_metrics.scope_metrics[0]
    rows = {kind: read_back(store, kind) for kind in TABLES}
    seen = 0
    kinds = {Sum: "sum", Gauge: "gauge", Histogram: "histogram", ExponentialHistogram: "exponential_histogram"}
    for metric in scope.metrics:
        kind = kinds[type(metric.data)]
        for point in metric.data.data_points:
            row = rows[kind][key(metric.name, as_strings(point.attributes))]
            seen += 1
            assert row["ResourceAttributes"] == resource
            assert row["ServiceName"] == "claude-code"
            assert (row["ScopeName"], row["ScopeVersion"]) == ("com.anthropic.claude_code", "1.0.9")
            assert (row["MetricDescription"], row["MetricUnit"]) == (metric.description or "", metric.unit or "")
            assert row["StartNs"] == (point.start_time_unix_nano or 0)
            assert row["Ns"] == point.time_unix_nano
            assert row["ExNs"] == [e.time_unix_nano for e in point.exemplars]
            assert row["ExValues"] == [float(e.value) for e in point.exemplars]
            assert row["ExTraceIds"] == [format(e.trace_id or 0, "032x") for e in point.exemplars]
            assert row["ExSpanIds"] == [format(e.span_id or 0, "016x") for e in point.exemplars]
            assert row["ExAttributes"] == [as_strings(e.filtered_attributes) for e in point.exemplars]
            if kind in ("sum", "gauge"):
                assert row["Value"] == float(point.value)
            if kind == "sum":
                assert row["AggregationTemporality"] == metric.data.aggregation_temporality.value
                assert row["IsMonotonic"] is metric.data.is_monotonic
            if kind == "histogram":
                assert (row["Count"], row["Sum"]) == (point.count, point.sum)
                assert row["BucketCounts"] == list(point.bucket_counts)
                assert row["ExplicitBounds"] == list(point.explicit_bounds)
                assert (row["Min"], row["Max"]) == (point.min, point.max)
                assert row["AggregationTemporality"] == metric.data.aggregation_temporality.value
            if kind == "exponential_histogram":
                assert (row["Count"], row["Sum"], row["Scale"]) == (point.count, point.sum, point.scale)
                assert row["ZeroCount"] == point.zero_count
                assert (row["PositiveOffset"], row["PositiveBucketCounts"]) == (
                    point.positive.offset,
                    list(point.positive.bucket_counts),
                )
                assert (row["NegativeOffset"], row["NegativeBucketCounts"]) == (
                    point.negative.offset,
                    list(point.negative.bucket_counts),
                )
                assert (row["Min"], row["Max"]) == (point.min, point.max)
                assert row["AggregationTemporality"] == metric.data.aggregation_temporality.value
    assert seen == sum(len(rows[kind]) for kind in TABLES)

    # Spot checks against the measurements themselves.
    input_tokens = rows["sum"][key("claude_code.token.usage", {"type": "input", "model": "claude"})]
    assert input_tokens["Value"] == 1200.0
    assert input_tokens["IsMonotonic"] is True
    assert input_tokens["MetricUnit"] == "tokens" and input_tokens["MetricDescription"] == "Tokens used"
    assert len(input_tokens["ExTraceIds"]) == 1 and input_tokens["ExTraceIds"][0] != "0" * 32
    assert rows["sum"][key("claude_code.cost.usage", {"model": "claude"})]["Value"] == 0.0123
    active = rows["sum"][key("sessions.active", {})]
    assert (active["Value"], active["IsMonotonic"]) == (-1.0, False)
    assert rows["gauge"][key("temperature", {"room": "a"})]["Value"] == 21.5
    assert rows["gauge"][key("cpu.load", {"core": "1"})]["Value"] == 9.0
    hist = rows["histogram"][key("latency", {"route": "/v1"})]
    assert (hist["Count"], hist["Sum"], hist["Min"], hist["Max"]) == (5, 597.5, 0.5, 500.0)
    assert hist["ExplicitBounds"] == [1.0, 10.0, 100.0]
    assert hist["BucketCounts"] == [1, 1, 2, 1]
    exp = rows["exponential_histogram"][key("latency.exp", {})]
    assert (exp["Count"], exp["ZeroCount"], exp["Min"], exp["Max"]) == (5, 1, 0.0, 1000.0)


def kv(key_: str, **value: Any) -> KeyValue:
    return KeyValue(key=key_, value=AnyValue(**value))


def test_hand_built_points(store) -> None:  # noqa: ANN001
    trace_id = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
    span_id = bytes.fromhex("1112131415161718")
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add(schema_url="https://res/1")
    resource_metrics.resource.attributes.append(kv("service.name", string_value="svc"))
    scope_metrics = resource_metrics.scope_metrics.add(schema_url="https://scope/2")
    scope_metrics.scope.name = "meter"
    scope_metrics.scope.version = "0.1"
    scope_metrics.scope.attributes.append(kv("lib", bool_value=True))
    scope_metrics.scope.dropped_attributes_count = 4
    metrics = scope_metrics.metrics

    gauge = metrics.add(name="g", description="d", unit="1").gauge
    gauge.data_points.extend(
        [
            pb.NumberDataPoint(
                time_unix_nano=T0,
                as_int=-5,
                flags=1,
                attributes=[kv("p", string_value="int")],
                exemplars=[
                    pb.Exemplar(time_unix_nano=T0 - 1, as_int=3, trace_id=trace_id, span_id=span_id),
                    pb.Exemplar(
                        time_unix_nano=T0 - 2,
                        as_double=0.5,
                        filtered_attributes=[kv("user", string_value="u")],
                    ),
                ],
            ),
            pb.NumberDataPoint(time_unix_nano=T0, attributes=[kv("p", string_value="unset")]),
            pb.NumberDataPoint(
                time_unix_nano=T0,
                as_double=1.0,
                attributes=[kv("p", string_value="bad exemplar")],
                exemplars=[pb.Exemplar(trace_id=b"\x01" * 15)],
            ),
        ]
    )
    total = metrics.add(name="s").sum
    total.aggregation_temporality = pb.AGGREGATION_TEMPORALITY_DELTA
    total.data_points.add(start_time_unix_nano=T0 - 10, time_unix_nano=T0, as_double=2.5)
    histogram = metrics.add(name="h").histogram
    histogram.aggregation_temporality = pb.AGGREGATION_TEMPORALITY_CUMULATIVE
    histogram.data_points.add(time_unix_nano=T0, count=3, bucket_counts=[3], explicit_bounds=[])  # no sum/min/max
    exponential = metrics.add(name="e").exponential_histogram
    point = exponential.data_points.add(time_unix_nano=T0, count=4, sum=-1.5, scale=-2, zero_count=1, min=-1, max=0)
    point.negative.offset = -3
    point.negative.bucket_counts.extend([1, 2])
    summary = metrics.add(name="q", unit="s").summary
    summary.data_points.add(
        time_unix_nano=T0,
        count=10,
        sum=4.5,
        flags=1,
        attributes=[kv("p", int_value=9)],
        quantile_values=[
            pb.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=0.4),
            pb.SummaryDataPoint.ValueAtQuantile(quantile=0.99, value=1.2),
        ],
    )
    metrics.add(name="no data")  # a metric without a type has no points

    flattened = insert(store, request)
    assert flattened.rejected == 1
    assert flattened.errors == [
        "1 data point rejected: exemplar with an invalid trace_id/span_id (must be empty, 16 and 8 bytes)"
    ]
    rows = {kind: read_back(store, kind) for kind in TABLES}
    assert [len(rows[kind]) for kind in TABLES] == [2, 1, 1, 1, 1]

    g = rows["gauge"][key("g", {"p": "int"})]
    assert (g["Value"], g["Flags"], g["MetricDescription"], g["MetricUnit"]) == (-5.0, 1, "d", "1")
    assert g["ResourceAttributes"] == {"service.name": "svc", vocabulary.TENANT: TENANT} and g["ServiceName"] == "svc"
    assert (g["ResourceSchemaUrl"], g["ScopeSchemaUrl"]) == ("https://res/1", "https://scope/2")
    assert (g["ScopeName"], g["ScopeVersion"], g["ScopeAttributes"]) == ("meter", "0.1", {"lib": "true"})
    assert g["ScopeDroppedAttrCount"] == 4
    assert (g["StartNs"], g["Ns"]) == (0, T0)
    assert g["ExValues"] == [3.0, 0.5]
    assert g["ExNs"] == [T0 - 1, T0 - 2]
    assert g["ExTraceIds"] == [trace_id.hex(), "0" * 32]  # the exporter writes zeros for absent ids
    assert g["ExSpanIds"] == [span_id.hex(), "0" * 16]
    assert g["ExAttributes"] == [{}, {"user": "u"}]
    assert rows["gauge"][key("g", {"p": "unset"})]["Value"] == 0.0

    s = rows["sum"][key("s", {})]
    assert (s["Value"], s["StartNs"], s["AggregationTemporality"], s["IsMonotonic"]) == (2.5, T0 - 10, 1, False)
    h = rows["histogram"][key("h", {})]
    assert (h["Count"], h["Sum"], h["Min"], h["Max"], h["BucketCounts"], h["ExplicitBounds"]) == (3, 0, 0, 0, [3], [])
    assert h["AggregationTemporality"] == 2
    e = rows["exponential_histogram"][key("e", {})]
    assert (e["Count"], e["Sum"], e["Scale"], e["ZeroCount"], e["Min"], e["Max"]) == (4, -1.5, -2, 1, -1, 0)
    assert (e["NegativeOffset"], e["NegativeBucketCounts"]) == (-3, [1, 2])
    assert (e["PositiveOffset"], e["PositiveBucketCounts"]) == (0, [])
    assert e["AggregationTemporality"] == 0
    q = rows["summary"][key("q", {"p": "9"})]
    assert (q["Count"], q["Sum"], q["Flags"], q["MetricUnit"]) == (10, 4.5, 1, "s")
    assert (q["Quantiles"], q["QuantileValues"]) == ([0.5, 0.99], [0.4, 1.2])


def test_requests_without_points_spool_nothing() -> None:
    request = ExportMetricsServiceRequest()
    request.resource_metrics.add().scope_metrics.add().metrics.add(name="empty").sum.SetInParent()
    flattened = metrics.to_spool(request, "default", None, 1)
    assert (flattened.tables, flattened.rejected, flattened.errors) == ({}, 0, [])
