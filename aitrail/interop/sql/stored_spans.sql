-- Which of these imported spans are already stored: their ids are deterministic, so a re-import finds them
-- here and sends nothing twice. TraceId has a bloom filter index in otel_traces (migration 0001).
SELECT DISTINCT SpanId AS span_id
FROM aitrail.otel_traces
WHERE TraceId IN {trace_ids:Array(String)} AND SpanId IN {span_ids:Array(String)}
