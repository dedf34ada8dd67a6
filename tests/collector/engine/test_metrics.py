"""The engine's otel_metrics_* rows equal the Python flattener's, row for row, table by table, on every corpus we have.

The same requests go both ways (``engine_equality``): through the tenant stamp
and the Python flattener the collector used before
(``reference_metrics.metrics_to_tables``, kept as the reference), and as the
collector spools them (one part per kind of data point, to the common or the
deep statement) through ``engine.metrics``' SQL in chDB. Both land in scratch
copies of each table and must be equal: every kind of metric, every value type
in resource, scope, data point and exemplar attributes, NaN and infinities in
values, sums, bounds and quantiles, unset optionals and empty fields, refused
exemplar ids, a payload's tenant and team claims, metrics shaped like the
assistants' own, and the fuzzing corpus.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from engine_equality import both_ways, nesting, spooled
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from otlp_corpus import valid_metrics
from reference_metrics import metrics_to_tables

from bench import native_metrics

from aitrail.collector.engine import ingest, metrics
from aitrail.collector.engine.schema import SHALLOW_DEPTH
from aitrail.collector.spool import REQUESTS_PREFIX
from aitrail.sdk import vocabulary as v

T0 = 1_760_000_000_123_456_789


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _every_value(prefix: str) -> list[KeyValue]:
    """Every type of value, duplicate keys, nested lists with NaN, empty and unset values."""
    nested = KeyValueList(values=[_kv("z", array_value=ArrayValue(values=[AnyValue(int_value=1)])),
                                  _kv("a", string_value="x&y\u2028<"), _kv("a", string_value="last wins")])
    return [
        _kv(f"{prefix}.str", string_value="héllo ☃"), _kv(f"{prefix}.empty", string_value=""),
        _kv(f"{prefix}.int", int_value=-(2**63)), _kv(f"{prefix}.bool", bool_value=True),
        _kv(f"{prefix}.double", double_value=1e21), _kv(f"{prefix}.nan", double_value=math.nan),
        _kv(f"{prefix}.inf", double_value=-math.inf), _kv(f"{prefix}.bytes", bytes_value=b"\x00\xff"),
        _kv(f"{prefix}.list", kvlist_value=nested), _kv(f"{prefix}.tags", array_value=ArrayValue(
            values=[AnyValue(string_value="a"), AnyValue(double_value=math.inf)])),
        KeyValue(key=f"{prefix}.unset"), _kv(f"{prefix}.dup", string_value="first"), _kv(f"{prefix}.dup", int_value=2),
    ]


def typed_request() -> ExportMetricsServiceRequest:
    """Every kind and field by hand: values of every type everywhere, claims, NaN, unset optionals, refused ids."""
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add(schema_url="https://res/1")
    resource_metrics.resource.attributes.extend([
        *_every_value("r"), _kv(v.TENANT, string_value="other"), _kv(v.TEAM, string_value="claimed"),
        _kv("team.name", string_value="alias claim"), _kv("service.name", int_value=7)])
    scope_metrics = resource_metrics.scope_metrics.add(schema_url="https://scope/2")
    scope_metrics.scope.name, scope_metrics.scope.version = "meter", "0.1"
    scope_metrics.scope.dropped_attributes_count = 4
    scope_metrics.scope.attributes.extend(_every_value("s"))
    metrics_ = scope_metrics.metrics
    claims = [_kv(v.TENANT, string_value="claimed"), _kv(v.TEAM, string_value="claimed"),
              _kv("team", string_value="alias")]
    good = {"trace_id": b"\x01" * 16, "span_id": b"\x02" * 8}

    gauge = metrics_.add(name="typed.gauge", description="d", unit="1").gauge
    point = gauge.data_points.add(time_unix_nano=2**64 - 1, start_time_unix_nano=T0, as_int=-(2**63), flags=1)
    point.attributes.extend([*_every_value("p"), *claims])
    point.exemplars.add(time_unix_nano=T0, as_double=math.nan, **good).filtered_attributes.extend(_every_value("e"))
    point.exemplars.add(as_int=3)  # absent ids: zeros
    point.exemplars.add(trace_id=bytes(16), span_id=bytes(8))  # no value
    gauge.data_points.add(time_unix_nano=T0).attributes.append(_kv("p", string_value="unset value"))
    gauge.data_points.add(as_double=math.inf).attributes.append(_kv("p", string_value="inf"))
    gauge.data_points.add(as_double=1.0).exemplars.add(trace_id=b"\x01" * 15)  # refused
    gauge.data_points.add(as_double=2.0).exemplars.add(span_id=b"\x01")  # refused

    total = metrics_.add(name="typed.sum").sum
    total.aggregation_temporality, total.is_monotonic = 1, True
    total.data_points.add(as_double=-math.nan, start_time_unix_nano=T0 - 10, time_unix_nano=T0).attributes.extend(claims)
    total.data_points.add(as_int=2**63 - 1, time_unix_nano=T0).exemplars.add(as_int=-1, **good)
    metrics_.add(name="typed.empty sum").sum.SetInParent()
    metrics_.add(name="typed.no data")

    histogram = metrics_.add(name="typed.histogram").histogram
    histogram.aggregation_temporality = 7  # unknown: kept as sent
    histogram.data_points.add(count=3, bucket_counts=[3], time_unix_nano=T0)  # no sum, min, max
    histogram.data_points.add(count=2**64 - 1, sum=math.nan, min=-math.inf, max=math.inf, bucket_counts=[1, 2**64 - 1],
                              explicit_bounds=[math.nan, 0.5, 1e308], flags=2**32 - 1).exemplars.add(
        as_double=0.5, time_unix_nano=T0, **good)
    histogram.data_points.add(exemplars=[{"trace_id": b"\x01"}])  # refused

    exponential = metrics_.add(name="typed.exponential").exponential_histogram
    point = exponential.data_points.add(count=4, sum=-1.5, scale=-2, zero_count=1, min=-1, max=0, zero_threshold=0.1)
    point.negative.offset = -3
    point.negative.bucket_counts.extend([1, 2])
    point.exemplars.add(as_int=9).filtered_attributes.extend(claims)  # an exemplar's attributes are kept as sent
    exponential.data_points.add(time_unix_nano=T0)  # no buckets at all
    exponential.data_points.add(exemplars=[{"span_id": b"\x01" * 9}])  # refused

    summary = metrics_.add(name="typed.summary", unit="s").summary
    summary.data_points.add(count=10, sum=4.5, flags=1, quantile_values=[
        {"quantile": 0.5, "value": 0.4}, {"quantile": 0.99, "value": math.nan}, {"quantile": math.inf, "value": -0.0}])
    summary.data_points.add().attributes.extend(_every_value("q"))

    request.resource_metrics.add().scope_metrics.add().metrics.add(name="typed.bare").gauge.data_points.add()
    return request


def fuzz_requests(count: int) -> list[ExportMetricsServiceRequest]:
    rng = random.Random(15)
    return [valid_metrics(rng, f"fuzz-{i}") for i in range(count)]


def native_requests() -> list[ExportMetricsServiceRequest]:
    rng = random.Random(6)
    return [native_metrics.claude_code(rng, 3), native_metrics.gemini_cli_and_codex(rng, 5)]


def _canonical(value: Any) -> Any:
    """A value comparable whatever it holds: NaN equal to NaN (its sign and payload aside), maps as sorted items."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return sorted((k, _canonical(item)) for k, item in value.items())
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _read(store: Any, table: str) -> list[Any]:
    """Every row of ``table``, canonical, in an order that does not depend on how they were inserted."""
    return sorted((_canonical(row) for row in store.rows(f"SELECT * FROM {table}")), key=repr)


@pytest.mark.parametrize("team", [None, "payments"])
def test_engine_rows_equal_the_python_rows(store, team: str | None) -> None:  # noqa: ANN001
    requests = [typed_request(), *native_requests(), *fuzz_requests(150)]
    statements, names = set(), set()
    for table in metrics.KINDS.values():
        python_rows, engine_rows, used = both_ways(store, "metrics", table, metrics_to_tables, metrics.to_spool, _read,
                                                   requests, "acme", team)
        assert len(engine_rows) == len(python_rows), table
        for python_row, engine_row in zip(python_rows, engine_rows):
            assert engine_row == python_row, table
        statements |= used
        names |= {dict(row)["MetricName"] for row in python_rows}
    assert {"typed.gauge", "typed.bare", "claude_code.token.usage", "gemini_cli.tool.call.latency", "fuzz-0"} <= names
    assert statements == {entry for statement in metrics.STATEMENTS.values() for entry in statement.entries.values()}


def test_a_request_is_spooled_once_per_kind_it_holds_with_its_points_counted() -> None:
    request = typed_request()
    parts = spooled("metrics", metrics.to_spool, [request], "acme", None)
    # by hand: the points of each kind in typed_request, less those with a refused exemplar
    assert {ingest.table(part): data.num_rows for part, data in parts.items()} == {
        "otel_metrics_gauge": 3 + 1, "otel_metrics_sum": 2, "otel_metrics_histogram": 2,
        "otel_metrics_exponential_histogram": 2, "otel_metrics_summary": 2}
    assert all(part.startswith(f"{REQUESTS_PREFIX}metrics.") and part.endswith(".deep") for part in parts)  # nested
    flattened = metrics.to_spool(ExportMetricsServiceRequest.FromString(request.SerializeToString()), "acme", None, 1)
    assert flattened.rejected == 2 + 1 + 1
    assert flattened.errors == [f"4 data points rejected: {metrics.BAD_EXEMPLAR_ID}"]
    claude = native_metrics.claude_code(random.Random(1), 2)
    assert set(spooled("metrics", metrics.to_spool, [claude], "acme", None)) == {metrics.STATEMENTS["sum"].entries[False]}


def test_only_values_nesting_past_the_common_depth_go_to_the_deep_statement() -> None:
    common, deep = metrics.STATEMENTS["histogram"].entries[False], metrics.STATEMENTS["histogram"].entries[True]
    for place in ("resource", "scope", "point", "exemplar"):
        request = ExportMetricsServiceRequest()
        resource_metrics = request.resource_metrics.add()
        scope_metrics = resource_metrics.scope_metrics.add()
        point = scope_metrics.metrics.add(name=place).histogram.data_points.add()
        attributes = {"resource": resource_metrics.resource.attributes, "scope": scope_metrics.scope.attributes,
                      "point": point.attributes, "exemplar": point.exemplars.add().filtered_attributes}[place]
        attributes.add(key="shallow").value.CopyFrom(nesting(SHALLOW_DEPTH))
        assert set(spooled("metrics", metrics.to_spool, [request], "acme", None)) == {common}, place
        attributes.add(key="deep").value.CopyFrom(nesting(SHALLOW_DEPTH + 1))
        assert set(spooled("metrics", metrics.to_spool, [request], "acme", None)) == {deep}, place
