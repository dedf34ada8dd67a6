"""otel_traces rows made by the engine from raw ExportTraceServiceRequest bodies (``traces.sql``).

The rules are those of :mod:`aitrail.collector.rows.traces`, written in SQL:
a span whose trace id is not 16 bytes or all zero, whose span id is not 8
bytes or all zero, whose parent id has an impossible length, or one of whose
links has, is not a row (:data:`REFUSED` says why, for the answer to the client).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

from aitrail.collector.engine import values
from aitrail.collector.engine.schema import SHALLOW_DEPTH, VALUE_DEPTH, format_settings, structure
from aitrail.collector.rows.traces import _BAD_LINK_ID, _BAD_PARENT_ID, _BAD_SPAN_ID, _BAD_TRACE_ID, COLUMNS
from aitrail.sdk import vocabulary as v

_ZERO8 = "repeat('\\0', 8)"
_ZERO16 = "repeat('\\0', 16)"

REFUSED: dict[str, str] = {
    _BAD_TRACE_ID: f"length(sp.trace_id) != 16 OR sp.trace_id = {_ZERO16}",
    _BAD_SPAN_ID: f"length(sp.span_id) != 8 OR sp.span_id = {_ZERO8}",
    _BAD_PARENT_ID: "length(sp.parent_span_id) NOT IN (0, 8)",
    _BAD_LINK_ID: "arrayExists(l -> length(l.trace_id) NOT IN (0, 16) OR length(l.span_id) NOT IN (0, 8), sp.links)",
}
"""Why a span is refused, by the SQL condition that says so (tried in this order)."""

_CLAIMS = (f"if({{team:String}} = '', [{values.literal(v.TENANT)}], "
           f"[{', '.join(values.literal(k) for k in (v.TENANT, v.TEAM, *v.TEAM_ALIASES))}])")
"""Keys a payload may not set (on its resource or a span): the tenant, and the team when the token fixes one."""


_UNREAD = frozenset({
    "ResourceSpans.schema_url", "Resource.dropped_attributes_count", "Resource.entity_refs",
    "ScopeSpans.schema_url", "InstrumentationScope.attributes", "InstrumentationScope.dropped_attributes_count",
    "Span.flags", "Span.dropped_attributes_count", "Span.dropped_events_count", "Span.dropped_links_count",
    "Event.dropped_attributes_count", "Link.dropped_attributes_count", "Link.flags",
    "KeyValue.key_strindex", "AnyValue.string_value_strindex",
})
"""What otel_traces does not hold: the engine skips it on the wire."""
_KINDS_ONLY = _UNREAD | {
    "ScopeSpans.scope", "Span.trace_id", "Span.span_id", "Span.trace_state", "Span.parent_span_id", "Span.name",
    "Span.kind", "Span.start_time_unix_nano", "Span.end_time_unix_nano", "Span.status", "Event.time_unix_nano",
    "Event.name", "Link.trace_id", "Link.span_id", "Link.trace_state", "KeyValue.key", "AnyValue.string_value",
    "AnyValue.bool_value", "AnyValue.int_value", "AnyValue.double_value", "AnyValue.bytes_value",
}
"""What telling the deep requests apart does not read: everything but the kinds of values."""


def _depth(deep: bool) -> int:
    return VALUE_DEPTH if deep else SHALLOW_DEPTH


def structure_of(deep: bool = False) -> str:
    """The columns the common (``deep`` False) or the deep statement reads requests with."""
    return structure("traces", _UNREAD, _depth(deep))


def source(path: str, deep: bool = False) -> str:
    """The ``file()`` table function reading length-delimited requests at ``path`` (a path the engine sees) with
    the columns of the common or the deep statement."""
    return f"file({values.literal(path)}, Protobuf, {values.literal(structure_of(deep))})"


def _span_nests_deeper(span: str) -> str:
    """SQL: whether a value of the span, of one of its events or of one of its links nests past the common depth."""
    return (f"({values.nests_deeper(f'{span}.attributes', SHALLOW_DEPTH)} "
            f"OR arrayExists(e -> {values.nests_deeper('e.attributes', SHALLOW_DEPTH)}, {span}.events) "
            f"OR arrayExists(l -> {values.nests_deeper('l.attributes', SHALLOW_DEPTH)}, {span}.links))")


def _resource_nests_deeper(resource_spans: str) -> str:
    return values.nests_deeper(f"{resource_spans}.resource.attributes", SHALLOW_DEPTH)


@cache
def select_sql(source_sql: str, deep: bool = False) -> str:
    """``SELECT`` of otel_traces rows (exporter column names) from the requests ``source_sql`` reads.

    The common statement (``deep`` False, over :func:`source` without ``deep``) takes every span whose values,
    and whose resource's, nest no deeper than :data:`~aitrail.collector.engine.schema.SHALLOW_DEPTH`; the deep
    one (over the deep source) takes the others. The two together store every span once;
    :func:`nesting_sql` says whether the deep one has anything to do.

    Parameters: ``{tenant:String}``, ``{team:String}``. Append :func:`settings`.
    """
    depth = _depth(deep)
    template = Template(resources.files(__package__).joinpath("traces.sql").read_text())
    route = f"(resource_nests_deeper OR {_span_nests_deeper('sp')})"
    return template.substitute(
        source=source_sql,
        zero8=_ZERO8,
        zero16=_ZERO16,
        resource_attributes=values.attributes("rs.resource.attributes", depth, drop=_CLAIMS),
        resource_nests_deeper=_resource_nests_deeper("rs"),
        span_attributes=values.attributes("sp.attributes", depth, drop=_CLAIMS),
        event_attributes=values.attributes("e.attributes", depth),
        link_attributes=values.attributes("l.attributes", depth),
        valid=" AND ".join(f"NOT ({condition})" for condition in REFUSED.values()),
        route=route if deep else f"NOT {route}",
    )


def kinds_source(path: str) -> str:
    """The ``file()`` table function reading only the kinds of the values of the requests at ``path``."""
    return f"file({values.literal(path)}, Protobuf, {values.literal(structure('traces', _KINDS_ONLY, SHALLOW_DEPTH))})"


@cache
def nesting_sql(source_sql: str) -> str:
    """``SELECT`` of one number: how many requests (read by :func:`kinds_source`, or the common :func:`source`)
    hold a span the deep statement must take — 0 for nearly every batch, which then needs the common one only."""
    spans = f"arrayExists(ss -> arrayExists(sp -> {_span_nests_deeper('sp')}, ss.spans), rs.scope_spans)"
    return (f"SELECT countIf(arrayExists(rs -> {_resource_nests_deeper('rs')} OR {spans}, resource_spans)) "
            f"FROM {source_sql}")


def settings(schema: str | None = None) -> str:
    """The SETTINGS clause the SELECT needs (``schema``: the .proto path as the engine sees it)."""
    return f"SETTINGS {format_settings('traces', schema)}"
