-- otel_traces rows from spooled OTLP ExportTraceServiceRequests, parsed by ClickHouse itself (the Protobuf format
-- with the schema aitrail.collector.engine.schema derives), as the contrib ClickHouse exporter writes them.
-- `source`: the table (function) the SpooledExportTraceServiceRequests come from; the dollar-brace macros are
-- expanded by engine.traces. The tenant is the one the collector established (`tenant`, beside each request);
-- so is the team when the token fixes one (`team`, '' when it does not): the payload's own claims to either are
-- dropped, everywhere.
-- `model_calls` (beside the request): the collector did not read it for GenAI content (its bytes name no message) while
-- it derives generations; the spans the GenAI content processor would have marked `aitrail.kind = model_call` are
-- marked here, by its rule (`${marked_span_attributes}`).
WITH ${span_attributes} AS span_attributes, ${read_at}
SELECT
    fromUnixTimestamp64Nano(toInt64(least(sp.start_time_unix_nano, 9223372036854775807))) AS Timestamp,
    lower(hex(sp.trace_id)) AS TraceId,
    lower(hex(sp.span_id)) AS SpanId,
    if(sp.parent_span_id IN ('', ${zero8}), '', lower(hex(sp.parent_span_id))) AS ParentSpanId,
    sp.trace_state AS TraceState,
    sp.name AS SpanName,
    transform(sp.kind, [0, 1, 2, 3, 4, 5], ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'], '')
        AS SpanKind,
    ResourceAttributes['service.name'] AS ServiceName,
    resource_attributes AS ResourceAttributes,
    ss.scope.name AS ScopeName,
    ss.scope.version AS ScopeVersion,
    ${marked_span_attributes} AS SpanAttributes,
    if(sp.end_time_unix_nano > sp.start_time_unix_nano, sp.end_time_unix_nano - sp.start_time_unix_nano, 0) AS Duration,
    transform(sp.status.code, [0, 1, 2], ['Unset', 'Ok', 'Error'], '') AS StatusCode,
    sp.status.message AS StatusMessage,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(least(e.time_unix_nano, 9223372036854775807))), sp.events)
        AS `Events.Timestamp`,
    arrayMap(e -> e.name, sp.events) AS `Events.Name`,
    arrayMap(e -> ${event_attributes}, sp.events) AS `Events.Attributes`,
    arrayMap(l -> if(l.trace_id IN ('', ${zero16}), '', lower(hex(l.trace_id))), sp.links) AS `Links.TraceId`,
    arrayMap(l -> if(l.span_id IN ('', ${zero8}), '', lower(hex(l.span_id))), sp.links) AS `Links.SpanId`,
    arrayMap(l -> l.trace_state, sp.links) AS `Links.TraceState`,
    arrayMap(l -> ${link_attributes}, sp.links) AS `Links.Attributes`
FROM (
    -- A resource's attributes once per resource, not once per span.
    SELECT team, model_calls, rs.scope_spans AS scope_spans,
           ${resource_attributes} AS resource_attributes
    FROM ${source}
    ARRAY JOIN request.resource_spans AS rs
)
ARRAY JOIN scope_spans AS ss
ARRAY JOIN ss.spans AS sp
WHERE ${valid}
