"""otel_metrics_* rows made by the engine from the requests the collector spooled (``metrics.sql``).

The same road as traces (:mod:`aitrail.collector.engine.statement`), with one
statement per table: each data point is a row of its metric's kind's table
(gauge, sum, histogram, exponential histogram, summary), written as the contrib
ClickHouse exporter writes it — a number's value its double or its int as
Float64, an unset optional (a histogram's sum, min, max) 0, exemplar ids as hex
of their bytes, all zeros when absent.

The collector counts a request's data points by kind (each statement's census
of its items) and spools the request as one part per kind it holds, each
naming its table's statement; so a batch runs only the statements of the kinds
it holds (Claude Code sends sums only), and each reads only its kind's fields.
A request holding several kinds is spooled once per kind.

A data point with an exemplar whose ids are present but of the wrong length is
not a row (``_BAD_EXEMPLAR``; :func:`to_spool` counts the same points in the
collector, for its answer to the client).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from operator import attrgetter
from typing import Any

from aitrail.collector.engine import values
from aitrail.collector.engine.schema import spooled
from aitrail.collector.engine.statement import CLAIMS, RequestStatement, ids_none_or_whole, stamped
from aitrail.collector.rows.common import Flattened, summarize
from aitrail.collector.spool import Requests

KINDS = {
    "gauge": "otel_metrics_gauge",
    "sum": "otel_metrics_sum",
    "histogram": "otel_metrics_histogram",
    "exponential_histogram": "otel_metrics_exponential_histogram",
    "summary": "otel_metrics_summary",
}
"""Each kind of metric (the ``Metric.data`` oneof) and the exporter's table of its data points."""

BAD_EXEMPLAR_ID = "exemplar with an invalid trace_id/span_id (must be empty, 16 and 8 bytes)"

_BAD_EXEMPLAR = "arrayExists(e -> length(e.trace_id) NOT IN (0, 16) OR length(e.span_id) NOT IN (0, 8), p.exemplars)"


def _time(nanoseconds: str) -> str:
    """SQL: Unix nanoseconds (UInt64 on the wire) as DateTime64(9), clamped past year 2262."""
    return f"fromUnixTimestamp64Nano(toInt64(least({nanoseconds}, 9223372036854775807)))"


def _number(value: str) -> str:
    """SQL: a NumberDataPoint's or an Exemplar's value (``as_double`` or ``as_int``; 0 when neither) as Float64."""
    return f"if({value}.value = 'as_int', toFloat64({value}.as_int), {value}.as_double)"


_COMMON = (
    "ResourceAttributes", "ResourceSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes", "ScopeDroppedAttrCount",
    "ScopeSchemaUrl", "ServiceName", "MetricName", "MetricDescription", "MetricUnit", "Attributes", "StartTimeUnix",
    "TimeUnix",
)
"""The columns every metrics table starts with (``metrics.sql`` writes them)."""


def _exemplars(depth: int) -> dict[str, str]:
    return {
        "Exemplars.FilteredAttributes": f"arrayMap(e -> {values.attributes('e.filtered_attributes', depth)}, "
                                        "p.exemplars)",
        "Exemplars.TimeUnix": f"arrayMap(e -> {_time('e.time_unix_nano')}, p.exemplars)",
        "Exemplars.Value": f"arrayMap(e -> {_number('e')}, p.exemplars)",
        "Exemplars.SpanId": "arrayMap(e -> if(e.span_id = '', repeat('0', 16), lower(hex(e.span_id))), p.exemplars)",
        "Exemplars.TraceId": "arrayMap(e -> if(e.trace_id = '', repeat('0', 32), lower(hex(e.trace_id))), "
                             "p.exemplars)",
    }


def _histogram_tail(kind: str) -> dict[str, str]:
    return {"Flags": "p.flags", "Min": "p.min", "Max": "p.max",
            "AggregationTemporality": f"m.{kind}.aggregation_temporality"}


def _point_columns(kind: str, depth: int) -> dict[str, str]:
    """Each of the kind's own columns (after :data:`_COMMON`, in the table's order) and its SQL over the data point
    ``p`` of the metric ``m``."""
    if kind in ("gauge", "sum"):
        columns = {"Value": _number("p"), "Flags": "p.flags", **_exemplars(depth)}
        if kind == "sum":
            columns |= {"AggregationTemporality": "m.sum.aggregation_temporality", "IsMonotonic": "m.sum.is_monotonic"}
        return columns
    if kind == "histogram":
        return {"Count": "p.count", "Sum": "p.sum", "BucketCounts": "p.bucket_counts",
                "ExplicitBounds": "p.explicit_bounds", **_exemplars(depth), **_histogram_tail(kind)}
    if kind == "exponential_histogram":
        return {"Count": "p.count", "Sum": "p.sum", "Scale": "p.scale", "ZeroCount": "p.zero_count",
                "PositiveOffset": "p.positive.offset", "PositiveBucketCounts": "p.positive.bucket_counts",
                "NegativeOffset": "p.negative.offset", "NegativeBucketCounts": "p.negative.bucket_counts",
                **_exemplars(depth), **_histogram_tail(kind)}
    return {"Count": "p.count", "Sum": "p.sum",
            "ValueAtQuantiles.Quantile": "arrayMap(q -> q.quantile, p.quantile_values)",
            "ValueAtQuantiles.Value": "arrayMap(q -> q.value, p.quantile_values)", "Flags": "p.flags"}


_UNREAD = frozenset({
    "Resource.dropped_attributes_count", "Resource.entity_refs", "Metric.metadata",
    "ExponentialHistogramDataPoint.zero_threshold", "KeyValue.key_strindex", "AnyValue.string_value_strindex",
})
"""What no otel_metrics_* table holds: the engine skips it on the wire (each statement skips the other kinds too)."""


def _points(kind: str) -> Callable[[Any], Iterator[Any]]:
    """Every data point of the metrics of one kind in a request."""
    def each(request: Any) -> Iterator[Any]:
        for resource_metrics in request.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.WhichOneof("data") == kind:
                        yield from getattr(metric, kind).data_points
    return each


def _refusal(point: Any) -> str | None:
    """Why the statement will not make a row of a data point: an exemplar's ids (``_BAD_EXEMPLAR`` in SQL)."""
    if any(len(e.trace_id) not in (0, 16) or len(e.span_id) not in (0, 8) for e in point.exemplars):
        return BAD_EXEMPLAR_ID
    return None


_EXEMPLARS = attrgetter("exemplars")


def _clear(points: list[Any]) -> bool:
    """:func:`_refusal` refuses none of ``points``."""
    return ids_none_or_whole(list(chain.from_iterable(map(_EXEMPLARS, points))))


def _statement(kind: str) -> RequestStatement:
    def macros(depth: int) -> dict[str, str]:
        columns = ",\n    ".join(f"{sql} AS `{name}`" for name, sql in _point_columns(kind, depth).items())
        return {
            "kind": kind,
            "resource_attributes": stamped(values.attributes("rs.resource.attributes", depth, drop=CLAIMS)),
            "scope_attributes": values.attributes("sm.scope.attributes", depth),
            "point_attributes": values.attributes("p.attributes", depth, drop=CLAIMS),
            "point_columns": columns,
        }

    others = frozenset(f"Metric.{other}" for other in KINDS if other != kind)
    exemplars = kind != "summary"  # a summary's points have none
    return RequestStatement("metrics", KINDS[kind], (*_COMMON, *_point_columns(kind, 1)), _UNREAD | others, macros,
                            _points(kind), _refusal if exemplars else lambda point: None,
                            _clear if exemplars else lambda points: True, "data point",
                            {BAD_EXEMPLAR_ID: _BAD_EXEMPLAR} if exemplars else {}, name=f"metrics.{kind}",
                            sql="metrics.sql")


STATEMENTS = {kind: _statement(kind) for kind in KINDS}
"""The statement of each kind of metric, storing its data points in its table."""


def to_spool(request: Any, tenant: str, team: str | None, depth: int, sent: bytes | bytearray | None = None,
             model_calls: bool = False) -> Flattened:
    """What the collector spools of a metrics request: the request itself beside ``tenant`` and ``team``, as one part
    per kind of data point it holds (the part of that kind's statement its values' ``depth`` needs), with the data
    points the statements will refuse told apart (``sent``: its bytes as they came, when nothing changed it)."""
    parts: dict[str, Any] = {}
    refused: dict[str, int] = {}
    body = b""
    for statement in STATEMENTS.values():
        points, counts = statement.census(request)
        for reason, n in counts.items():
            refused[reason] = refused.get(reason, 0) + n
        if points > sum(counts.values()):
            body = body or spooled(request.SerializeToString() if sent is None else sent, tenant, team, model_calls)
            parts[statement.entry(depth)] = Requests(body, points - sum(counts.values()))
    return Flattened(parts, sum(refused.values()), summarize(refused, "data point"))
