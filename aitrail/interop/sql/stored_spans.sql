-- Which of these imported spans are already stored: their ids are deterministic, so a re-import finds them
-- here and sends nothing twice. TraceId has a bloom filter index in otel_traces (migration 0001). The ids
-- come comma-separated (hex has no commas): a String parameter reaches the engine alike directly and through
-- the collector's SQL endpoint.
SELECT DISTINCT SpanId AS span_id
FROM aitrail.otel_traces
WHERE TraceId IN splitByChar(',', {trace_ids:String}) AND SpanId IN splitByChar(',', {span_ids:String})
