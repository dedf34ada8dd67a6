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
links has, is not a row (:data:`REFUSED` says why, in SQL; :func:`to_spool`
counts the same spans in the collector, for its answer to the client).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from aitrail.collector.engine import values
from aitrail.collector.engine.statement import (
    CLAIMS, SPAN_ID, TRACE_ID, ZERO8, ZERO16, ZERO_SPAN_ID, ZERO_TRACE_ID, RequestStatement, ids_within, stamped)
from aitrail.collector.processors import genai_content, items_of
from aitrail.collector.rows.common import _go_json_string
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


REFUSED: dict[str, str] = {
    BAD_TRACE_ID: f"length(sp.trace_id) != 16 OR sp.trace_id = {ZERO16}",
    BAD_SPAN_ID: f"length(sp.span_id) != 8 OR sp.span_id = {ZERO8}",
    BAD_PARENT_ID: "length(sp.parent_span_id) NOT IN (0, 8)",
    BAD_LINK_ID: "arrayExists(l -> length(l.trace_id) NOT IN (0, 16) OR length(l.span_id) NOT IN (0, 8), sp.links)",
}
"""Why a span is refused, by the SQL condition that says so (tried in this order)."""

_UNREAD = frozenset({
    "ResourceSpans.schema_url", "Resource.dropped_attributes_count", "Resource.entity_refs",
    "ScopeSpans.schema_url", "InstrumentationScope.attributes", "InstrumentationScope.dropped_attributes_count",
    "Span.flags", "Span.dropped_attributes_count", "Span.dropped_events_count", "Span.dropped_links_count",
    "Event.dropped_attributes_count", "Link.dropped_attributes_count", "Link.flags",
    "KeyValue.key_strindex", "AnyValue.string_value_strindex",
})
"""What otel_traces does not hold: the engine skips it on the wire."""


READ_AT = ", ".join(f"arrayLastIndex(k -> k = {values.literal(key)}, sp.attributes.key) AS read_at_{n}"
                    for n, key in enumerate(genai_content.DECIDED_BY))
"""SQL (in traces.sql's WITH): where each of the attributes :data:`MODEL_CALL` reads (``genai_content.DECIDED_BY``)
was last sent among the span's attributes (0: it was not), written once: the analyser resolves a lambda at every
place it is written, at every statement."""


def _read_in(key: str, texts: tuple[str, ...]) -> str:
    """SQL: what GenAI content reads of the span's attribute ``key`` (``genai_content._string``, the last one sent)
    is one of ``texts`` (none holding a line break or starting like JSON text).

    It reads a string as it is; an array of strings as its lines, which equal such a text only when the array is
    that one string, and ``''`` when it is empty or holds one empty string; another array or a list as its JSON
    text, which starts with ``[`` or ``{`` unless it failed (``''``: a NaN inside); anything else as ``''``. So an
    array or a list is told by its JSON text in ``span_attributes``, never read item by item: reaching into the
    items' nested type cost 0.06 s of planning per statement for the four attributes."""
    at = f"read_at_{genai_content.DECIDED_BY.index(key)}"
    assert not any("\n" in text or text[:1] in ("[", "{") for text in texts)
    empty = "1" if "" in texts else "0"
    as_json = [json for text in texts
               for json in (("", "[]", '[""]') if text == "" else (f"[{_go_json_string(text)}]",))]
    return (f"multiIf({at} = 0, {empty}, sp.attributes.value.value[{at}] = 'string_value', "
            f"sp.attributes.value.string_value[{at}] IN ({', '.join(map(values.literal, texts))}), "
            f"sp.attributes.value.value[{at}] IN ('array_value', 'kvlist_value'), "
            f"span_attributes[{values.literal(key)}] IN ({', '.join(map(values.literal, as_json))}), {empty})")


MODEL_CALL = (
    f"NOT hasAny(sp.attributes.key, [{', '.join(values.literal(k) for k in sorted(genai_content.ALREADY_READ))}]) "
    f"AND {_read_in(v.KIND, ('',))} "
    f"AND ({_read_in(v.GEN_AI_OPERATION_NAME, genai_content.OPERATIONS)} "
    f"OR ({_read_in(v.GEN_AI_OPERATION_NAME, ('',))} AND NOT {_read_in(v.GEN_AI_REQUEST_MODEL, ('',))})) "
    f"AND NOT (startsWith(sp.name, {values.literal(genai_content.CLAUDE_CODE_SPANS)}) "
    f"OR startsWith(ss.scope.name, {values.literal(genai_content.CLAUDE_CODE_SCOPES)}) "
    f"OR {_read_in(v.GEN_AI_AGENT_NAME, (genai_content.GEMINI_CLI,))})"
)
"""SQL: a span the GenAI content processor marks ``model_call`` when its request names no message (no aitrail
prompt key, no kind, a generation by the GenAI rules, not an assistant's own: ``_is_generation`` and
``_assistants_own``), read from ``span_attributes`` and the span's key-values."""


def _macros(depth: int) -> dict[str, str]:
    return {
        "resource_attributes": stamped(values.attributes("rs.resource.attributes", depth, drop=CLAIMS)),
        "span_attributes": values.attributes("sp.attributes", depth, drop=CLAIMS),
        "read_at": READ_AT,
        "marked_span_attributes": (f"if(model_calls AND {MODEL_CALL}, mapUpdate(span_attributes, "
                                   f"map({values.literal(v.KIND)}, {values.literal(v.KIND_MODEL_CALL)})), span_attributes)"),
        "event_attributes": values.attributes("e.attributes", depth),
        "link_attributes": values.attributes("l.attributes", depth),
    }


def _refusal(span: Any) -> str | None:
    trace_id, span_id = span.trace_id, span.span_id
    if len(trace_id) != 16 or trace_id == ZERO_TRACE_ID:
        return BAD_TRACE_ID
    if len(span_id) != 8 or span_id == ZERO_SPAN_ID:
        return BAD_SPAN_ID
    if len(span.parent_span_id) not in (0, 8):
        return BAD_PARENT_ID
    if any(len(link.trace_id) not in (0, 16) or len(link.span_id) not in (0, 8) for link in span.links):
        return BAD_LINK_ID
    return None


_PARENT_ID, _LINKS = attrgetter("parent_span_id"), attrgetter("links")


def _clear(spans: list[Any]) -> bool:
    """:func:`_refusal` refuses none of ``spans`` (and none has links, which it reads one by one)."""
    trace_ids, span_ids = set(map(TRACE_ID, spans)), set(map(SPAN_ID, spans))
    return (ids_within(trace_ids, {16}) and ZERO_TRACE_ID not in trace_ids
            and ids_within(span_ids, {8}) and ZERO_SPAN_ID not in span_ids
            and ids_within(map(_PARENT_ID, spans), {0, 8}) and not any(map(len, map(_LINKS, spans))))


STATEMENT = RequestStatement("traces", TABLE, COLUMNS, _UNREAD, _macros,
                             items_of("traces"), _refusal, _clear, "span", REFUSED)
ENTRIES = STATEMENT.entries
"""The spool entry of a request for the common statement (False) and for the deep one (True)."""
source = STATEMENT.source
select_sql = STATEMENT.select_sql
settings = STATEMENT.settings
to_spool = STATEMENT.to_spool
"""What the collector spools of a trace request (the request beside its tenant and team, the part its depth
needs), with the spans the statement will refuse told apart."""
