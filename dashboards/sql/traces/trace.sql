-- One trace, in the columns the data source's trace view reads (its OpenTelemetry mapping of otel_traces):
-- times and durations in milliseconds, attributes as key/value lists.
SELECT
    TraceId AS traceID,
    SpanId AS spanID,
    ParentSpanId AS parentSpanID,
    ServiceName AS serviceName,
    SpanName AS operationName,
    multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,
    multiply(Duration, 0.000001) AS duration,
    arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,
    arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,
    if(StatusCode = 'Error', 2, 0) AS statusCode
FROM aitrail.otel_traces
WHERE TraceId = '${trace_id}'
  AND $__timeFilter(Timestamp)
ORDER BY startTime ASC
LIMIT 1000
