"""otel_traces rows made by the engine from the requests the collector spooled (``traces.sql``).

The collector spools each ExportTraceServiceRequest's bytes beside the tenant
and team it established (:func:`aitrail.collector.engine.schema.spooled`);
the drain hands a batch of them to ClickHouse in one ``INSERT … SELECT``,
which parses them and writes the rows as the contrib ClickHouse exporter does.

Two statements share the work, by request: the common one reads values two
levels deep (a value, and the items of an array or a list of scalars) and
plans several times faster than the deep one, which reads all the levels the
schema unrolls; the collector sends a request nesting deeper
(``ItemLimits``' walk says so) to the deep one (:func:`entry`).

A span whose trace id is not 16 bytes or all zero, whose span id is not 8
bytes or all zero, whose parent id has an impossible length, or one of whose
links has, is not a row (:data:`REFUSED` says why, in SQL; :func:`refused`
counts the same spans in the collector, for its answer to the client).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from importlib import resources
from string import Template
from typing import Any

from aitrail.collector.engine import redaction, values
from aitrail.collector.engine.schema import (
    PROTO_FILE,
    SHALLOW_DEPTH,
    VALUE_DEPTH,
    fields_but,
    format_settings,
    messages,
    spooled,
    spooled_structure,
)
from aitrail.collector.rows.common import Flattened, summarize
from aitrail.collector.spool import Requests
from aitrail.collector.store.base import settings_clause
from aitrail.sdk import vocabulary as v

TABLE = "otel_traces"

COLUMNS = (
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode", "StatusMessage",
    "Events.Timestamp", "Events.Name", "Events.Attributes", "Links.TraceId", "Links.SpanId", "Links.TraceState",
    "Links.Attributes",
)
"""The exporter's otel_traces columns the statement writes."""

BAD_TRACE_ID = "invalid trace_id (must be 16 bytes, not all zero)"
BAD_SPAN_ID = "invalid span_id (must be 8 bytes, not all zero)"
BAD_PARENT_ID = "invalid parent_span_id (must be empty or 8 bytes)"
BAD_LINK_ID = "invalid link trace_id/span_id (must be empty, 16 and 8 bytes)"

_ZERO8 = "repeat('\\0', 8)"
_ZERO16 = "repeat('\\0', 16)"

REFUSED: dict[str, str] = {
    BAD_TRACE_ID: f"length(sp.trace_id) != 16 OR sp.trace_id = {_ZERO16}",
    BAD_SPAN_ID: f"length(sp.span_id) != 8 OR sp.span_id = {_ZERO8}",
    BAD_PARENT_ID: "length(sp.parent_span_id) NOT IN (0, 8)",
    BAD_LINK_ID: "arrayExists(l -> length(l.trace_id) NOT IN (0, 16) OR length(l.span_id) NOT IN (0, 8), sp.links)",
}
"""Why a span is refused, by the SQL condition that says so (tried in this order)."""

_CLAIMS = (f"if(team = '', [{values.literal(v.TENANT)}], "
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

ENTRIES = {False: "requests.traces", True: "requests.traces.deep"}
"""The spool entry of a request for the common statement (False) and for the deep one (True)."""


def entry(depth: int) -> str:
    """The spool entry (and so the statement) for a request whose values nest ``depth`` levels deep."""
    return ENTRIES[depth > SHALLOW_DEPTH]


def structure_of(deep: bool = False) -> str:
    """The columns the common (``deep`` False) or the deep statement reads spooled requests with."""
    return spooled_structure("traces", _UNREAD, VALUE_DEPTH if deep else SHALLOW_DEPTH)


def source(path: str, deep: bool = False) -> str:
    """The ``file()`` table function reading length-delimited spooled requests at ``path`` (a path the engine
    sees) with the columns of the common or the deep statement."""
    return f"file({values.literal(path)}, Protobuf, {values.literal(structure_of(deep))})"


@cache
def select_sql(source_sql: str, deep: bool = False, redacted: bool = False) -> str:
    """``SELECT`` of otel_traces rows (exporter column names) from the spooled requests ``source_sql`` reads
    (with :func:`structure_of` ``deep``). Append :func:`settings`. ``redacted``: string values go through
    :func:`aitrail.collector.engine.redaction.wrap` (put its ``with_clause`` first)."""
    depth = VALUE_DEPTH if deep else SHALLOW_DEPTH
    template = Template(resources.files(__package__).joinpath("traces.sql").read_text())
    return template.substitute(
        source=source_sql,
        zero8=_ZERO8,
        zero16=_ZERO16,
        resource_attributes=values.attributes("rs.resource.attributes", depth, _CLAIMS, redacted),
        span_attributes=values.attributes("sp.attributes", depth, _CLAIMS, redacted),
        event_attributes=values.attributes("e.attributes", depth, "", redacted),
        link_attributes=values.attributes("l.attributes", depth, "", redacted),
        valid=" AND ".join(f"NOT ({condition})" for condition in REFUSED.values()),
    )


def insert_sql(table: str, deep: bool, found: redaction.Replacements | None = None) -> Callable[[str], str]:
    """The statement storing the rows of the spooled requests a table function reads into ``table`` (qualified),
    with the secrets ``found`` replaced (exactly the statement without redaction when there are none)."""
    columns = ", ".join(f"`{c}`" for c in COLUMNS)
    prefix = redaction.with_clause(found) if found else ""
    return lambda source_sql: f"INSERT INTO {table} ({columns}) {prefix}{select_sql(source_sql, deep, bool(prefix))}"


_SCANNED = frozenset({"Resource.attributes", "ResourceSpans.resource", "ResourceSpans.scope_spans", "ScopeSpans.spans",
                      "Span.attributes", "Span.events", "Span.links", "Event.attributes", "Link.attributes",
                      "KeyValue.key", "KeyValue.value", "AnyValue.string_value", "AnyValue.array_value",
                      "AnyValue.kvlist_value", "ArrayValue.values", "KeyValueList.values",
                      "ExportTraceServiceRequest.resource_spans"})
"""What the flag scan reads of a request: the keys and strings of the attributes otel_traces stores."""


def scan_structure(deep: bool = False) -> str:
    """The columns the flag scan reads spooled requests with (keys and strings only)."""
    return spooled_structure("traces", fields_but(_SCANNED), VALUE_DEPTH if deep else SHALLOW_DEPTH)


_SCANNED_LISTS = ("resource_spans.resource.attributes", "resource_spans.scope_spans.spans.attributes",
                  "resource_spans.scope_spans.spans.events.attributes",
                  "resource_spans.scope_spans.spans.links.attributes")
"""The attribute lists otel_traces stores (the scope's are not)."""


def flag_sql(source_sql: str, deep: bool = False) -> str:
    """SQL: the distinct (key, string value) pairs of the spooled requests ``source_sql`` reads (with
    :func:`scan_structure`) that redaction's prefilter flags: resource, span, event and link attributes."""
    lists = ", ".join(f"arrayFlatten(request.{path})" for path in _SCANNED_LISTS)
    return redaction.flag_sql(source_sql, f"arrayConcat({lists})", VALUE_DEPTH if deep else SHALLOW_DEPTH)


def settings(schema: str | None = None) -> str:
    """The SETTINGS clause the SELECT needs (``schema``: the .proto path as the engine sees it)."""
    return settings_clause(format_settings("traces", schema, spooled=True))


_REPEATABLE = {"max_threads": 1, "max_insert_threads": 1}
"""One stream reads, flattens and inserts a batch: the same blocks in the same order at every retry, so the
batch's deduplication token, numbered block by block in the raw table and in every view, names the same rows
each time (ClickHouse deduplicates a retried ``INSERT … SELECT`` only then; several streams made a retry after
a killed server count a batch twice in the daily rollup)."""


def store_requests(store: Any, data: bytes, dedup_token: str | None = None, table: str = TABLE,
                   deep: bool = False) -> redaction.Replacements:
    """Store the rows of ``data`` (length-delimited spooled requests) in ``table`` of ``store``: read from a file
    by the embedded engine, sent as the body of the INSERT to a server (whose ``format_schemas`` directory holds
    ``otlp.proto``), with their secrets replaced: one statement for them all, or, when their replacements would
    not fit one statement, one per run of requests (each with the token numbered). Returns the secrets
    replaced."""
    schema = None if store.in_process else PROTO_FILE
    runs = redactions(store, data, deep)
    for n, (requests, found) in enumerate(runs):
        token = dedup_token if len(runs) == 1 or dedup_token is None else f"{dedup_token}:{n}"
        store.insert_requests(insert_sql(store.qualified(table), deep, found), structure_of(deep),
                              {**format_settings("traces", schema, spooled=True), **_REPEATABLE,
                               **redaction.settings(found)}, requests, token)
    return redaction.merge(*(found for _, found in runs))


def redactions(store: Any, data: bytes, deep: bool = False) -> list[tuple[bytes, redaction.Replacements]]:
    """The secrets in ``data`` (length-delimited spooled requests) and what replaces them, by runs of requests
    one statement each stores (:func:`aitrail.collector.engine.redaction.split`; one run of all when there are
    none): the engine in this process flags the values that may hold one (a server's ``input()`` cannot be
    read twice), Python redacts those."""
    flagged = store.read_requests(partial(flag_sql, deep=deep), scan_structure(deep),
                                  {**format_settings("traces", spooled=True), **redaction.SCAN_SETTINGS}, data)
    rows = redaction.rows(flagged)
    if not rows:
        return [(data, redaction.Replacements())]
    return redaction.split(messages(data), rows)


def to_spool(request: Any, tenant: str, team: str | None, depth: int) -> Flattened:
    """What the collector spools of a trace request: the request itself beside ``tenant`` and ``team``, as the
    part of the statement its values' ``depth`` needs, with the spans the statement will refuse told apart."""
    counts = refused(request)
    rejected = sum(counts.values())
    kept = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans) - rejected
    parts: dict[str, Any] = {}
    if kept:
        parts[entry(depth)] = Requests(spooled(request.SerializeToString(), tenant, team), kept)
    return Flattened(parts, rejected, summarize(counts, "span"))


def refused(request: Any) -> dict[str, int]:
    """How many spans of ``request`` the statement refuses, by reason (:data:`REFUSED`'s rules, read from the
    ids alone): what the collector tells the client before the engine has seen the request."""
    counts: dict[str, int] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                reason = _refusal(span)
                if reason:
                    counts[reason] = counts.get(reason, 0) + 1
    return counts


def _refusal(span: Any) -> str | None:
    trace_id, span_id = span.trace_id, span.span_id
    if len(trace_id) != 16 or trace_id == bytes(16):
        return BAD_TRACE_ID
    if len(span_id) != 8 or span_id == bytes(8):
        return BAD_SPAN_ID
    if len(span.parent_span_id) not in (0, 8):
        return BAD_PARENT_ID
    if any(len(link.trace_id) not in (0, 16) or len(link.span_id) not in (0, 8) for link in span.links):
        return BAD_LINK_ID
    return None
