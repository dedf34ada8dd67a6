"""ExportMetricsServiceRequest -> rows of the five ``otel_metrics_*`` tables, as the contrib exporter writes them.

One row per data point, in the table of its metric's type (gauge, sum,
histogram, exponential histogram, summary); only tables that get rows are
returned. A number's value is its double or its int as Float64; an unset
optional (histogram sum, min, max) is 0. Exemplar ids are hex of the 16/8
bytes, all zeros when absent, exactly as the exporter writes them.

A data point with an exemplar whose ids are present but of the wrong length is
refused (counted); everything else is kept.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from aitrail.collector.rows.common import (
    STRING,
    Flattened,
    MapColumn,
    attributes,
    list_array,
    summarize,
    timestamps,
)

GAUGE = "otel_metrics_gauge"
SUM = "otel_metrics_sum"
HISTOGRAM = "otel_metrics_histogram"
EXPONENTIAL_HISTOGRAM = "otel_metrics_exponential_histogram"
SUMMARY = "otel_metrics_summary"
TABLES = (GAUGE, SUM, HISTOGRAM, EXPONENTIAL_HISTOGRAM, SUMMARY)

_COMMON = (
    "ResourceAttributes",
    "ResourceSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeDroppedAttrCount",
    "ScopeSchemaUrl",
    "ServiceName",
    "MetricName",
    "MetricDescription",
    "MetricUnit",
    "Attributes",
    "StartTimeUnix",
    "TimeUnix",
)
_EXEMPLARS = (
    "Exemplars.FilteredAttributes",
    "Exemplars.TimeUnix",
    "Exemplars.Value",
    "Exemplars.SpanId",
    "Exemplars.TraceId",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    GAUGE: _COMMON + ("Value", "Flags") + _EXEMPLARS,
    SUM: _COMMON + ("Value", "Flags") + _EXEMPLARS + ("AggregationTemporality", "IsMonotonic"),
    HISTOGRAM: _COMMON
    + ("Count", "Sum", "BucketCounts", "ExplicitBounds")
    + _EXEMPLARS
    + ("Flags", "Min", "Max", "AggregationTemporality"),
    EXPONENTIAL_HISTOGRAM: _COMMON
    + (
        "Count",
        "Sum",
        "Scale",
        "ZeroCount",
        "PositiveOffset",
        "PositiveBucketCounts",
        "NegativeOffset",
        "NegativeBucketCounts",
    )
    + _EXEMPLARS
    + ("Flags", "Min", "Max", "AggregationTemporality"),
    SUMMARY: _COMMON + ("Count", "Sum", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value", "Flags"),
}

_BAD_EXEMPLAR_ID = "exemplar with an invalid trace_id/span_id (must be empty, 16 and 8 bytes)"
_ZERO_TRACE_HEX = "0" * 32
_ZERO_SPAN_HEX = "0" * 16
_F64 = pa.float64()
_U64 = pa.uint64()


class _Table:
    """The columns of one metrics table being built; ``extra`` holds the type-specific ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.resource_attrs = MapColumn()
        self.resource_urls: list[str] = []
        self.scope_names: list[str] = []
        self.scope_versions: list[str] = []
        self.scope_attrs = MapColumn()
        self.scope_dropped: list[int] = []
        self.scope_urls: list[str] = []
        self.services: list[str] = []
        self.metric_names: list[str] = []
        self.descriptions: list[str] = []
        self.units: list[str] = []
        self.attrs = MapColumn()
        self.start_times: list[int] = []
        self.times: list[int] = []
        self.flags: list[int] = []
        # Exemplars (not on summaries)
        self.ex_offsets = [0]
        self.ex_attrs = MapColumn()  # one map per exemplar: its list offsets are ex_offsets
        self.ex_times: list[int] = []
        self.ex_values: list[float] = []
        self.ex_span_ids: list[str] = []
        self.ex_trace_ids: list[str] = []
        # Type-specific
        self.values: list[float] = []
        self.temporality: list[int] = []
        self.monotonic: list[bool] = []
        self.counts: list[int] = []
        self.sums: list[float] = []
        self.mins: list[float] = []
        self.maxs: list[float] = []
        self.bucket_offsets = [0]
        self.bucket_counts: list[int] = []
        self.bound_offsets = [0]
        self.bounds: list[float] = []
        self.scales: list[int] = []
        self.zero_counts: list[int] = []
        self.pos_offsets: list[int] = []
        self.pos_count_offsets = [0]
        self.pos_counts: list[int] = []
        self.neg_offsets: list[int] = []
        self.neg_count_offsets = [0]
        self.neg_counts: list[int] = []
        self.q_offsets = [0]
        self.quantiles: list[float] = []
        self.q_values: list[float] = []

    def add_common(self, ctx: _Context, point: Any) -> None:
        self.resource_attrs.keys.extend(ctx.res_keys)
        self.resource_attrs.values.extend(ctx.res_values)
        self.resource_attrs.offsets.append(len(self.resource_attrs.keys))
        self.resource_urls.append(ctx.resource_url)
        self.scope_names.append(ctx.scope_name)
        self.scope_versions.append(ctx.scope_version)
        self.scope_attrs.keys.extend(ctx.scope_keys)
        self.scope_attrs.values.extend(ctx.scope_values)
        self.scope_attrs.offsets.append(len(self.scope_attrs.keys))
        self.scope_dropped.append(ctx.scope_dropped)
        self.scope_urls.append(ctx.scope_url)
        self.services.append(ctx.service)
        self.metric_names.append(ctx.metric_name)
        self.descriptions.append(ctx.description)
        self.units.append(ctx.unit)
        self.attrs.add(attributes(point.attributes))
        self.start_times.append(point.start_time_unix_nano)
        self.times.append(point.time_unix_nano)
        self.flags.append(point.flags)

    def add_exemplars(self, rows: list[tuple[dict[str, str], int, float, str, str]]) -> None:
        for attrs, time, value, span_id, trace_id in rows:
            self.ex_attrs.add(attrs)
            self.ex_times.append(time)
            self.ex_values.append(value)
            self.ex_span_ids.append(span_id)
            self.ex_trace_ids.append(trace_id)
        self.ex_offsets.append(len(self.ex_times))

    @property
    def rows(self) -> int:
        return len(self.times)

    def _common_arrays(self) -> list[pa.Array]:
        return [
            self.resource_attrs.array(),
            pa.array(self.resource_urls, STRING),
            pa.array(self.scope_names, STRING),
            pa.array(self.scope_versions, STRING),
            self.scope_attrs.array(),
            pa.array(self.scope_dropped, pa.uint32()),
            pa.array(self.scope_urls, STRING),
            pa.array(self.services, STRING),
            pa.array(self.metric_names, STRING),
            pa.array(self.descriptions, STRING),
            pa.array(self.units, STRING),
            self.attrs.array(),
            timestamps(self.start_times),
            timestamps(self.times),
        ]

    def _exemplar_arrays(self) -> list[pa.Array]:
        offsets = self.ex_offsets
        return [
            list_array(offsets, self.ex_attrs.array()),
            list_array(offsets, timestamps(self.ex_times)),
            list_array(offsets, pa.array(self.ex_values, _F64)),
            list_array(offsets, pa.array(self.ex_span_ids, STRING)),
            list_array(offsets, pa.array(self.ex_trace_ids, STRING)),
        ]

    def table(self) -> pa.Table:
        name = self.name
        columns = self._common_arrays()
        flags = pa.array(self.flags, pa.uint32())
        if name in (GAUGE, SUM):
            columns += [pa.array(self.values, _F64), flags, *self._exemplar_arrays()]
            if name == SUM:
                columns += [pa.array(self.temporality, pa.int32()), pa.array(self.monotonic, pa.bool_())]
        elif name == HISTOGRAM:
            columns += [
                pa.array(self.counts, _U64),
                pa.array(self.sums, _F64),
                list_array(self.bucket_offsets, pa.array(self.bucket_counts, _U64)),
                list_array(self.bound_offsets, pa.array(self.bounds, _F64)),
                *self._exemplar_arrays(),
                flags,
                pa.array(self.mins, _F64),
                pa.array(self.maxs, _F64),
                pa.array(self.temporality, pa.int32()),
            ]
        elif name == EXPONENTIAL_HISTOGRAM:
            columns += [
                pa.array(self.counts, _U64),
                pa.array(self.sums, _F64),
                pa.array(self.scales, pa.int32()),
                pa.array(self.zero_counts, _U64),
                pa.array(self.pos_offsets, pa.int32()),
                list_array(self.pos_count_offsets, pa.array(self.pos_counts, _U64)),
                pa.array(self.neg_offsets, pa.int32()),
                list_array(self.neg_count_offsets, pa.array(self.neg_counts, _U64)),
                *self._exemplar_arrays(),
                flags,
                pa.array(self.mins, _F64),
                pa.array(self.maxs, _F64),
                pa.array(self.temporality, pa.int32()),
            ]
        else:  # SUMMARY
            columns += [
                pa.array(self.counts, _U64),
                pa.array(self.sums, _F64),
                list_array(self.q_offsets, pa.array(self.quantiles, _F64)),
                list_array(self.q_offsets, pa.array(self.q_values, _F64)),
                flags,
            ]
        return pa.Table.from_arrays(columns, names=list(COLUMNS[name]))


class _Context:
    """Resource, scope and metric fields shared by every data point of a metric."""

    __slots__ = (
        "res_keys",
        "res_values",
        "resource_url",
        "service",
        "scope_name",
        "scope_version",
        "scope_keys",
        "scope_values",
        "scope_dropped",
        "scope_url",
        "metric_name",
        "description",
        "unit",
    )


def _exemplars(point: Any) -> list[tuple[dict[str, str], int, float, str, str]] | None:
    """The point's exemplars as rows, or None when one has a malformed id."""
    rows = []
    for exemplar in point.exemplars:
        trace_id = exemplar.trace_id
        span_id = exemplar.span_id
        if (trace_id and len(trace_id) != 16) or (span_id and len(span_id) != 8):
            return None
        which = exemplar.WhichOneof("value")
        if which == "as_double":
            value = exemplar.as_double
        elif which == "as_int":
            value = float(exemplar.as_int)
        else:
            value = 0.0
        rows.append(
            (
                attributes(exemplar.filtered_attributes),
                exemplar.time_unix_nano,
                value,
                span_id.hex() if span_id else _ZERO_SPAN_HEX,
                trace_id.hex() if trace_id else _ZERO_TRACE_HEX,
            )
        )
    return rows


def metrics_to_tables(request: Any) -> Flattened:
    """Flatten an ExportMetricsServiceRequest into the ``otel_metrics_*`` tables that get rows."""
    tables = {name: _Table(name) for name in TABLES}
    refused = 0
    ctx = _Context()

    for resource_metrics in request.resource_metrics:
        res = attributes(resource_metrics.resource.attributes)
        ctx.res_keys = list(res)
        ctx.res_values = list(res.values())
        ctx.service = res.get("service.name", "")
        ctx.resource_url = resource_metrics.schema_url
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            scope_attr = attributes(scope.attributes)
            ctx.scope_name = scope.name
            ctx.scope_version = scope.version
            ctx.scope_keys = list(scope_attr)
            ctx.scope_values = list(scope_attr.values())
            ctx.scope_dropped = scope.dropped_attributes_count
            ctx.scope_url = scope_metrics.schema_url
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                ctx.metric_name = metric.name
                ctx.description = metric.description
                ctx.unit = metric.unit
                data = getattr(metric, kind)

                if kind == "gauge" or kind == "sum":
                    table = tables[GAUGE if kind == "gauge" else SUM]
                    if kind == "sum":
                        temporality = data.aggregation_temporality
                        monotonic = data.is_monotonic
                    for point in data.data_points:
                        exemplars = _exemplars(point)
                        if exemplars is None:
                            refused += 1
                            continue
                        table.add_common(ctx, point)
                        which = point.WhichOneof("value")
                        if which == "as_double":
                            table.values.append(point.as_double)
                        elif which == "as_int":
                            table.values.append(float(point.as_int))
                        else:
                            table.values.append(0.0)
                        table.add_exemplars(exemplars)
                        if kind == "sum":
                            table.temporality.append(temporality)
                            table.monotonic.append(monotonic)

                elif kind == "histogram":
                    table = tables[HISTOGRAM]
                    temporality = data.aggregation_temporality
                    for point in data.data_points:
                        exemplars = _exemplars(point)
                        if exemplars is None:
                            refused += 1
                            continue
                        table.add_common(ctx, point)
                        table.counts.append(point.count)
                        table.sums.append(point.sum)
                        table.bucket_counts.extend(point.bucket_counts)
                        table.bucket_offsets.append(len(table.bucket_counts))
                        table.bounds.extend(point.explicit_bounds)
                        table.bound_offsets.append(len(table.bounds))
                        table.add_exemplars(exemplars)
                        table.mins.append(point.min)
                        table.maxs.append(point.max)
                        table.temporality.append(temporality)

                elif kind == "exponential_histogram":
                    table = tables[EXPONENTIAL_HISTOGRAM]
                    temporality = data.aggregation_temporality
                    for point in data.data_points:
                        exemplars = _exemplars(point)
                        if exemplars is None:
                            refused += 1
                            continue
                        table.add_common(ctx, point)
                        table.counts.append(point.count)
                        table.sums.append(point.sum)
                        table.scales.append(point.scale)
                        table.zero_counts.append(point.zero_count)
                        positive = point.positive
                        table.pos_offsets.append(positive.offset)
                        table.pos_counts.extend(positive.bucket_counts)
                        table.pos_count_offsets.append(len(table.pos_counts))
                        negative = point.negative
                        table.neg_offsets.append(negative.offset)
                        table.neg_counts.extend(negative.bucket_counts)
                        table.neg_count_offsets.append(len(table.neg_counts))
                        table.add_exemplars(exemplars)
                        table.mins.append(point.min)
                        table.maxs.append(point.max)
                        table.temporality.append(temporality)

                else:  # summary
                    table = tables[SUMMARY]
                    for point in data.data_points:
                        table.add_common(ctx, point)
                        table.counts.append(point.count)
                        table.sums.append(point.sum)
                        for quantile in point.quantile_values:
                            table.quantiles.append(quantile.quantile)
                            table.q_values.append(quantile.value)
                        table.q_offsets.append(len(table.quantiles))

    flattened = Flattened(
        rejected=refused, errors=summarize({_BAD_EXEMPLAR_ID: refused} if refused else {}, "data point")
    )
    for name, table in tables.items():
        if table.rows:
            flattened.tables[name] = table.table()
    return flattened
