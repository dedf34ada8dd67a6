-- otel_logs rows from spooled OTLP ExportLogsServiceRequests, parsed by ClickHouse itself (the Protobuf format
-- with the schema aitrail.collector.engine.schema derives), as the contrib ClickHouse exporter writes them.
-- `source`: the table (function) the SpooledExportLogsServiceRequests come from; the dollar-brace macros are
-- expanded by engine.logs. The tenant is the one the collector established (`tenant`, beside each request);
-- so is the team when the token fixes one (`team`, '' when it does not): the payload's own claims to either are
-- dropped from the resource and the records.
SELECT
    fromUnixTimestamp64Nano(toInt64(least(if(lr.time_unix_nano != 0, lr.time_unix_nano, lr.observed_time_unix_nano),
                                          9223372036854775807))) AS Timestamp,
    if(lr.trace_id IN ('', ${zero16}), '', lower(hex(lr.trace_id))) AS TraceId,
    if(lr.span_id IN ('', ${zero8}), '', lower(hex(lr.span_id))) AS SpanId,
    toUInt8(bitAnd(lr.flags, 255)) AS TraceFlags,
    lr.severity_text AS SeverityText,
    toUInt8(bitAnd(lr.severity_number, 255)) AS SeverityNumber,
    ResourceAttributes['service.name'] AS ServiceName,
    ${body} AS Body,
    resource_schema_url AS ResourceSchemaUrl,
    resource_attributes AS ResourceAttributes,
    sl.schema_url AS ScopeSchemaUrl,
    sl.scope.name AS ScopeName,
    sl.scope.version AS ScopeVersion,
    ${scope_attributes} AS ScopeAttributes,
    ${log_attributes} AS LogAttributes,
    -- SDKs older than the event_name field (Claude Code among them) put the name in an event.name attribute.
    if(lr.event_name != '', lr.event_name, LogAttributes['event.name']) AS EventName
FROM (
    -- A resource's attributes once per resource, not once per record.
    SELECT team, rl.scope_logs AS scope_logs, rl.schema_url AS resource_schema_url,
           ${resource_attributes} AS resource_attributes
    FROM ${source}
    ARRAY JOIN request.resource_logs AS rl
)
ARRAY JOIN scope_logs AS sl
ARRAY JOIN sl.log_records AS lr
WHERE ${valid}
