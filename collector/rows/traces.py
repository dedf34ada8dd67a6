"""ExportTraceServiceRequest -> rows of ``otel_traces``, as the contrib ClickHouse exporter writes them.

One row per span: ids as lower-case hex ('' when absent), ``SpanKind`` and
``StatusCode`` as pdata names them (``Server``, ``Error``), ``Duration`` in
nanoseconds, resource and scope repeated on every span, events and links as
the nested columns.

A span whose trace id is not 16 bytes or all zero, or whose span id is not
8 bytes or all zero, is refused (counted, one message per reason); so is one
whose parent or link ids have an impossible length. The rest of the request
is kept.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from aitrail.collector.rows.common import (
    STRING,
    ZERO_SPAN_ID,
    ZERO_TRACE_ID,
    Flattened,
    MapColumn,
    any_value_str,
    attributes,
    list_array,
    summarize,
    timestamps,
)

TABLE = "otel_traces"

# ptrace.SpanKind.String() and ptrace.StatusCode.String(); unknown values are ''.
SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")

COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "TraceState",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "ResourceAttributes",
    "ScopeName",
    "ScopeVersion",
    "SpanAttributes",
    "Duration",
    "StatusCode",
    "StatusMessage",
    "Events.Timestamp",
    "Events.Name",
    "Events.Attributes",
    "Links.TraceId",
    "Links.SpanId",
    "Links.TraceState",
    "Links.Attributes",
)

_BAD_TRACE_ID = "invalid trace_id (must be 16 bytes, not all zero)"
_BAD_SPAN_ID = "invalid span_id (must be 8 bytes, not all zero)"
_BAD_PARENT_ID = "invalid parent_span_id (must be empty or 8 bytes)"
_BAD_LINK_ID = "invalid link trace_id/span_id (must be empty, 16 and 8 bytes)"


def spans_to_table(request: Any) -> Flattened:
    """Flatten an ExportTraceServiceRequest into the ``otel_traces`` table."""
    start_ns: list[int] = []
    trace_ids: list[str] = []
    span_ids: list[str] = []
    parent_ids: list[str] = []
    trace_states: list[str] = []
    names: list[str] = []
    kinds: list[str] = []
    services: list[str] = []
    resource_attrs = MapColumn()
    scope_names: list[str] = []
    scope_versions: list[str] = []
    span_attrs = MapColumn()
    durations: list[int] = []
    status_codes: list[str] = []
    status_messages: list[str] = []
    event_offsets = [0]
    event_times: list[int] = []
    event_names: list[str] = []
    event_attrs = MapColumn()  # one map per event: its list offsets are event_offsets
    link_offsets = [0]
    link_trace_ids: list[str] = []
    link_span_ids: list[str] = []
    link_states: list[str] = []
    link_attrs = MapColumn()  # one map per link: its list offsets are link_offsets
    refused: dict[str, int] = {}

    kind_names = dict(enumerate(SPAN_KINDS))
    status_names = dict(enumerate(STATUS_CODES))
    zero16 = ZERO_TRACE_ID
    zero8 = ZERO_SPAN_ID

    for resource_spans in request.resource_spans:
        res = attributes(resource_spans.resource.attributes)
        res_keys = list(res)
        res_values = list(res.values())
        service = res.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_name = scope.name
            scope_version = scope.version
            for span in scope_spans.spans:
                # Ids first: a refused span leaves no trace in any column.
                trace_id = span.trace_id
                if len(trace_id) != 16 or trace_id == zero16:
                    refused[_BAD_TRACE_ID] = refused.get(_BAD_TRACE_ID, 0) + 1
                    continue
                span_id = span.span_id
                if len(span_id) != 8 or span_id == zero8:
                    refused[_BAD_SPAN_ID] = refused.get(_BAD_SPAN_ID, 0) + 1
                    continue
                parent = span.parent_span_id
                if not parent or parent == zero8:
                    parent_hex = ""
                elif len(parent) == 8:
                    parent_hex = parent.hex()
                else:
                    refused[_BAD_PARENT_ID] = refused.get(_BAD_PARENT_ID, 0) + 1
                    continue
                links = span.links
                if links:
                    link_rows: list[tuple[str, str, str, dict[str, str]]] = []
                    bad_link = False
                    for link in links:
                        lt = link.trace_id
                        ls = link.span_id
                        if (lt and len(lt) != 16) or (ls and len(ls) != 8):
                            bad_link = True
                            break
                        link_rows.append(
                            (
                                "" if not lt or lt == zero16 else lt.hex(),
                                "" if not ls or ls == zero8 else ls.hex(),
                                link.trace_state,
                                attributes(link.attributes),
                            )
                        )
                    if bad_link:
                        refused[_BAD_LINK_ID] = refused.get(_BAD_LINK_ID, 0) + 1
                        continue

                start = span.start_time_unix_nano
                end = span.end_time_unix_nano
                start_ns.append(start)
                trace_ids.append(trace_id.hex())
                span_ids.append(span_id.hex())
                parent_ids.append(parent_hex)
                trace_states.append(span.trace_state)
                names.append(span.name)
                kinds.append(kind_names.get(span.kind, ""))
                services.append(service)
                resource_attrs.keys.extend(res_keys)
                resource_attrs.values.extend(res_values)
                resource_attrs.offsets.append(len(resource_attrs.keys))
                scope_names.append(scope_name)
                scope_versions.append(scope_version)

                # SpanAttributes, inlined: this is the inner loop of the whole collector.
                kvs = span.attributes
                if kvs:
                    seen: dict[str, str] = {}
                    for kv in kvs:
                        value = kv.value
                        text = value.string_value
                        seen[kv.key] = text if text else any_value_str(value)
                    span_attrs.keys.extend(seen)
                    span_attrs.values.extend(seen.values())
                span_attrs.offsets.append(len(span_attrs.keys))

                durations.append(end - start if end > start else 0)
                status = span.status
                status_codes.append(status_names.get(status.code, ""))
                status_messages.append(status.message)

                events = span.events
                if events:
                    for event in events:
                        event_times.append(event.time_unix_nano)
                        event_names.append(event.name)
                        event_attrs.add(attributes(event.attributes))
                event_offsets.append(len(event_names))

                if links:
                    for lt_hex, ls_hex, state, link_attr in link_rows:
                        link_trace_ids.append(lt_hex)
                        link_span_ids.append(ls_hex)
                        link_states.append(state)
                        link_attrs.add(link_attr)
                link_offsets.append(len(link_trace_ids))

    flattened = Flattened(rejected=sum(refused.values()), errors=summarize(refused, "span"))
    if not start_ns:
        return flattened
    columns = [
        timestamps(start_ns),
        pa.array(trace_ids, STRING),
        pa.array(span_ids, STRING),
        pa.array(parent_ids, STRING),
        pa.array(trace_states, STRING),
        pa.array(names, STRING),
        pa.array(kinds, STRING),
        pa.array(services, STRING),
        resource_attrs.array(),
        pa.array(scope_names, STRING),
        pa.array(scope_versions, STRING),
        span_attrs.array(),
        pa.array(durations, pa.uint64()),
        pa.array(status_codes, STRING),
        pa.array(status_messages, STRING),
        list_array(event_offsets, timestamps(event_times)),
        list_array(event_offsets, pa.array(event_names, STRING)),
        list_array(event_offsets, event_attrs.array()),
        list_array(link_offsets, pa.array(link_trace_ids, STRING)),
        list_array(link_offsets, pa.array(link_span_ids, STRING)),
        list_array(link_offsets, pa.array(link_states, STRING)),
        list_array(link_offsets, link_attrs.array()),
    ]
    flattened.tables[TABLE] = pa.Table.from_arrays(columns, names=list(COLUMNS))
    return flattened
