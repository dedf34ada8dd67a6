-- The spans stored under these trace ids: imported spans have deterministic ids, so a re-import finds them
-- here and sends nothing twice. TraceId has a bloom filter index in otel_traces (migration 0001). The ids
-- come comma-separated (hex has no commas): a String parameter reaches the engine alike directly and through
-- the collector's SQL endpoint (whose query string limits how many fit in one question).
SELECT DISTINCT TraceId AS trace_id, SpanId AS span_id
FROM aitrail.otel_traces
WHERE TraceId IN splitByChar(',', {trace_ids:String})
