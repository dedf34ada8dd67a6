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
from aitrail.collector.engine.schema import format_settings, structure
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
_STRUCTURE = structure("traces", _UNREAD)


def source(path: str) -> str:
    """The ``file()`` table function reading length-delimited requests at ``path`` (a path the engine sees)."""
    return f"file({values.literal(path)}, Protobuf, {values.literal(_STRUCTURE)})"


@cache
def select_sql(source_sql: str) -> str:
    """``SELECT`` of otel_traces rows (exporter column names) from the requests ``source_sql`` reads.

    Parameters: ``{tenant:String}``, ``{team:String}``. Append :func:`settings`.
    """
    template = Template(resources.files(__package__).joinpath("traces.sql").read_text())
    return template.substitute(
        source=source_sql,
        zero8=_ZERO8,
        zero16=_ZERO16,
        resource_attributes=values.attributes("rs.resource.attributes", drop=_CLAIMS),
        span_attributes=values.attributes("sp.attributes", drop=_CLAIMS),
        event_attributes=values.attributes("e.attributes"),
        link_attributes=values.attributes("l.attributes"),
        valid=" AND ".join(f"NOT ({condition})" for condition in REFUSED.values()),
    )


def settings(schema: str | None = None) -> str:
    """The SETTINGS clause the SELECT needs (``schema``: the .proto path as the engine sees it)."""
    return f"SETTINGS {format_settings('traces', schema)}"
