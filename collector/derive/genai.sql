-- Any GenAI application whose messages come as log records: the OpenTelemetry GenAI conventions send
-- them as events, and instrumentations that emit events as logs (the older conventions always did)
-- correlate each record to the call's span by TraceId and SpanId:
--   gen_ai.client.inference.operation.details    gen_ai.input.messages, gen_ai.output.messages
--   gen_ai.user.message, gen_ai.choice, ...       one record per message, the message in its body
-- At ingest the collector (processors/genai_content.py) has put on each record what aitrail reads of
-- it, under the prompt policy (aitrail.prompt.*, aitrail.redaction.*; the answer's code as
-- aitrail.code.line_fingerprints and aitrail.code.lines_added), and marked every GenAI call span that
-- carried no prompt or answer of its own aitrail.kind = model_call, which migration 0004's view leaves
-- to this statement.
--
-- A generation is one such span with what its records add (same tenant, trace and span): the prompt of
-- the details record, else of the latest user message; the code of the details record's answer, else
-- of every choice. The rest (model, tokens, person, team, status) is the span's own. It is derived once
-- a record of it has arrived and the newest of them and the span's end are settle seconds old, or, with
-- whatever has arrived (nothing, when content capture is off), once the span ended wait seconds ago;
-- whichever arrives first, span or records. The derived span is a child of the call's span, with a
-- deterministic id, so deriving again adds nothing.
INSERT INTO ${database}.otel_traces
    (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
     ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage)
WITH
${derived}
, calls AS (
    SELECT
        Timestamp AS ts, TraceId AS trace_id, SpanId AS span_id, ServiceName AS service_name,
        ResourceAttributes AS resource, ResourceAttributes['aitrail.tenant.id'] AS tenant,
        SpanAttributes AS attributes, Duration AS duration, StatusCode AS status, StatusMessage AS status_message,
        addNanoseconds(Timestamp, Duration) AS end_ts,
        SPAN_ID('${dialect}', tenant, TraceId, SpanId) AS derived_id
    FROM ${database}.otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
      AND has(mapValues(SpanAttributes), 'model_call') AND SpanAttributes['aitrail.kind'] = 'model_call'
      AND derived_id NOT IN (SELECT id FROM derived_ids)
)
, records AS (
    SELECT
        ResourceAttributes['aitrail.tenant.id'] AS r_tenant, TraceId AS r_trace, SpanId AS r_span,
        max(Timestamp) AS r_newest,
        argMaxIf(LogAttributes, (EventName = 'gen_ai.client.inference.operation.details', Timestamp),
                 LogAttributes['aitrail.prompt.policy'] != '') AS asked,
        argMaxIf(LogAttributes['aitrail.code.line_fingerprints'], Timestamp,
                 EventName = 'gen_ai.client.inference.operation.details') AS details_prints,
        argMaxIf(toUInt64OrZero(LogAttributes['aitrail.code.lines_added']), Timestamp,
                 EventName = 'gen_ai.client.inference.operation.details') AS details_lines,
        arrayDistinct(arrayFlatten(groupArrayIf(JSONExtract(LogAttributes['aitrail.code.line_fingerprints'], 'Array(Int64)'),
                                                EventName != 'gen_ai.client.inference.operation.details'))) AS choice_prints,
        sumIf(toUInt64OrZero(LogAttributes['aitrail.code.lines_added']),
              EventName != 'gen_ai.client.inference.operation.details') AS choice_lines
    FROM ${database}.otel_logs
    WHERE TimestampTime >= toDateTime(fromUnixTimestamp64Nano({window_start:Int64}))
      AND Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
      AND EventName IN ('gen_ai.client.inference.operation.details', 'gen_ai.user.message', 'gen_ai.content.prompt',
                        'gen_ai.choice', 'gen_ai.content.completion', 'gen_ai.system.message',
                        'gen_ai.assistant.message', 'gen_ai.tool.message')
      AND (TraceId, SpanId) IN (SELECT trace_id, span_id FROM calls)
    GROUP BY r_tenant, r_trace, r_span
)
, joined AS (
    SELECT
        c.*, r.r_trace != '' AS has_records, greatest(c.end_ts, r.r_newest) AS newest,
        mapFilter((k, x) -> startsWith(k, 'aitrail.prompt.') OR startsWith(k, 'aitrail.redaction.'), r.asked) AS prompt,
        if(r.details_prints != '', JSONExtract(r.details_prints, 'Array(Int64)'), r.choice_prints) AS prints,
        if(r.details_prints != '', r.details_lines, r.choice_lines) AS lines_added
    FROM calls AS c
    LEFT JOIN records AS r ON c.tenant = r.r_tenant AND c.trace_id = r.r_trace AND c.span_id = r.r_span
)
SELECT
    ts AS Timestamp,
    trace_id AS TraceId,
    derived_id AS SpanId,
    span_id AS ParentSpanId,
    '' AS TraceState,
    'aitrail.derived.generation' AS SpanName,
    'Internal' AS SpanKind,
    service_name AS ServiceName,
    resource AS ResourceAttributes,
    'aitrail.derive.${dialect}' AS ScopeName,
    '1' AS ScopeVersion,
    mapUpdate(mapUpdate(attributes, prompt), mapFilter((k, x) -> x != '', map(
        'aitrail.kind', 'generation',
        'aitrail.derived.from', '${dialect}',
        'aitrail.code.line_fingerprints', if(notEmpty(prints), toJSONString(prints), ''),
        'aitrail.code.lines_added', if(notEmpty(prints), toString(lines_added), '')
    ))) AS SpanAttributes,
    duration AS Duration,
    status AS StatusCode,
    status_message AS StatusMessage
FROM joined
WHERE (has_records AND newest <= fromUnixTimestamp64Nano({settled:Int64}))
   OR end_ts <= fromUnixTimestamp64Nano({given_up:Int64})
