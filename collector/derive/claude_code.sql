-- Claude Code: generations from its native OpenTelemetry events (scope com.anthropic.claude_code.events).
--
-- A generation is a file-writing tool call (Write, Edit, MultiEdit, NotebookEdit), found by its
-- tool_use_id in tool_decision and tool_result events, joined to:
--   user_prompt   (same prompt.id)  the prompt text, when OTEL_LOG_USER_PROMPTS=1 (else "<REDACTED>")
--   api_request   (same prompt.id, latest before the call)  model, tokens, cost of the answer
--   the claude_code.tool span (same tool_use_id), when traces are exported
--                 (CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1): its "tool.output" event holds, with
--                 OTEL_LOG_TOOL_CONTENT=1, the whole written content (Write) or the structured
--                 patch with line numbers (Edit).
-- The written text otherwise comes from tool_result's tool_input (OTEL_LOG_TOOL_DETAILS=1), where
-- Claude Code cuts every string over 512 characters to 128 and a "…[N chars]" marker, nests no deeper
-- than two levels (MultiEdit's edits never fit) and stops at 4096 characters: a cut text gives no
-- fingerprints (a partial line would fingerprint wrongly), only the file and the decision.
-- A call counts once it has its tool_result (or was rejected) and its text (from the log or the
-- span); a rejected call has no tool_result, so it waits for its span, which names the file.
-- Accepted calls that failed (success=false) wrote nothing and are not generations; their answer's
-- tokens stay with the answer.
-- Token fields: input = input_tokens + cache_read_tokens + cache_creation_tokens (Anthropic counts
-- cached input apart; the vocabulary counts it in), cost = cost_usd.
INSERT INTO ${database}.otel_traces
    (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
     ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage)
WITH
${derived}
, events AS (
    SELECT
        Timestamp AS ts, TraceId AS trace_id, SpanId AS span_id, ServiceName AS service_name,
        ResourceAttributes AS resource, LogAttributes AS la,
        ResourceAttributes['aitrail.tenant.id'] AS tenant,
        LogAttributes['event.name'] AS event,
        if(ALIASED(LogAttributes)['session.id'] != '', ALIASED(LogAttributes)['session.id'],
           ALIASED(ResourceAttributes)['session.id']) AS session_id,
        LogAttributes['prompt.id'] AS prompt_key,
        LogAttributes['tool_use_id'] AS call_id
    FROM ${database}.otel_logs
    WHERE TimestampTime >= toDateTime(fromUnixTimestamp64Nano({window_start:Int64}))
      AND Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
      AND startsWith(ScopeName, 'com.anthropic.claude_code')
      AND LogAttributes['event.name'] IN ('user_prompt', 'api_request', 'tool_decision', 'tool_result')
)
, prompts AS (
    SELECT tenant, session_id, prompt_key, ts AS prompt_ts,
           la['prompt'] AS prompt_text, la['prompt_length'] AS prompt_length
    FROM events
    WHERE event = 'user_prompt'
)
, requests AS (
    SELECT
        tenant, session_id, prompt_key,
        concat(toString(toUnixTimestamp64Nano(ts)), '/', la['event.sequence']) AS request_key,
        ts AS request_ts,
        la['model'] AS model,
        transform(la['anthropic.provider'], ['bedrock', 'vertex', 'foundry'], ['aws.bedrock', 'gcp.vertex_ai', 'azure.ai.inference'], 'anthropic') AS provider,
        toUInt64OrZero(la['input_tokens']) + toUInt64OrZero(la['cache_read_tokens'])
            + toUInt64OrZero(la['cache_creation_tokens']) AS input_tokens,
        toUInt64OrZero(la['output_tokens']) AS output_tokens,
        toUInt64OrZero(la['cache_read_tokens']) AS cache_read_tokens,
        toUInt64OrZero(la['cache_creation_tokens']) AS cache_creation_tokens,
        toFloat64OrZero(la['cost_usd']) AS cost_usd,
        toUInt64OrZero(la['duration_ms']) * 1000000 AS duration_ns,
        ${source}
    FROM events
    WHERE event = 'api_request'
)
, calls AS (
    SELECT
        tenant, session_id, call_id,
        argMax(tuple(ts, trace_id, span_id, service_name, resource, la, prompt_key), event = 'tool_result') AS main,
        max(ts) AS write_ts,
        min(ts) AS link_ts,
        countIf(event = 'tool_result') > 0 AS has_result,
        countIf(event = 'tool_decision' AND la['decision'] IN ('reject', 'deny', 'denied')) > 0 AS rejected
    FROM events
    WHERE event IN ('tool_decision', 'tool_result') AND call_id != ''
      AND la['tool_name'] IN ('Write', 'Edit', 'MultiEdit', 'NotebookEdit')
      AND (tenant, call_id) NOT IN (SELECT derived_tenant, derived_call FROM derived_calls)
    GROUP BY tenant, session_id, call_id
)
, tool_spans AS (
    SELECT
        ResourceAttributes['aitrail.tenant.id'] AS span_tenant,
        SpanAttributes['tool_use_id'] AS span_call_id,
        SpanAttributes['file_path'] AS span_path,
        arrayFirstIndex(n -> n = 'tool.output', Events.Name) AS output_at,
        Events.Attributes[output_at] AS output
    FROM ${database}.otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
      AND SpanName = 'claude_code.tool' AND SpanAttributes['tool_use_id'] != ''
    ORDER BY output_at DESC
    LIMIT 1 BY span_tenant, span_call_id
)
, texts AS (
    SELECT
        c.tenant AS tenant, c.session_id AS session_id, c.call_id AS call_id,
        c.write_ts AS write_ts, c.link_ts AS link_ts, c.has_result AS has_result, c.rejected AS rejected,
        tupleElement(c.main, 2) AS trace_id, tupleElement(c.main, 3) AS span_id, tupleElement(c.main, 4) AS service_name, tupleElement(c.main, 5) AS resource,
        tupleElement(c.main, 6) AS la, tupleElement(c.main, 7) AS prompt_key,
        s.span_call_id != '' AS has_span, s.span_path AS span_path, s.output AS output,
        la['tool_name'] AS tool,
        la['tool_input'] AS input,
        isValidJSON(input) AS input_ok,
        -- Claude Code's cut marker: "…[N chars]" ends a string it shortened.
        '…\\[[0-9]+ chars\\]$$' AS cut,
        tool = 'Write' AND output['content'] != '' AND output['content_truncated'] != 'true' AS span_content,
        tool = 'Edit' AND output['diff'] != '' AND output['diff_truncated'] != 'true' AS span_patch,
        JSONExtractArrayRaw(output['diff']) AS hunks,
        JSONExtractArrayRaw(input, 'edits') AS edits
    FROM calls AS c
    LEFT JOIN tool_spans AS s ON c.tenant = s.span_tenant AND c.call_id = s.span_call_id
)
, writes AS (
    SELECT
        tenant, session_id, prompt_key, call_id, toUInt32(0) AS file_no, write_ts, link_ts, tool,
        multiIf(JSONExtractString(input, 'file_path') != '', JSONExtractString(input, 'file_path'),
                JSONExtractString(input, 'notebook_path') != '', JSONExtractString(input, 'notebook_path'),
                output['file_path'] != '', output['file_path'], span_path) AS path,
        if(la['aitrail.repo.root'] != '', la['aitrail.repo.root'], resource['aitrail.repo.root']) AS repo_root,
        multiIf(
            tool = 'Write', span_content OR (input_ok AND JSONHas(input, 'content')
                                             AND NOT match(JSONExtractString(input, 'content'), cut)),
            tool = 'Edit', span_patch OR (input_ok AND JSONHas(input, 'new_string')
                                          AND NOT match(JSONExtractString(input, 'new_string'), cut)
                                          AND NOT match(JSONExtractString(input, 'old_string'), cut)),
            tool = 'MultiEdit', input_ok AND notEmpty(edits)
                                AND arrayAll(e -> JSONType(e) = 'Object'
                                                  AND NOT match(JSONExtractString(e, 'new_string'), cut)
                                                  AND NOT match(JSONExtractString(e, 'old_string'), cut), edits),
            tool = 'NotebookEdit', input_ok AND NOT match(JSONExtractString(input, 'new_source'), cut),
            0) AS known,
        if(NOT known, CAST([], 'Array(String)'), multiIf(
            tool = 'Write', LINES(if(span_content, output['content'], JSONExtractString(input, 'content'))),
            span_patch, arrayFlatten(arrayMap(h -> arrayMap(x -> substring(x, 2),
                            arrayFilter(x -> startsWith(x, '+'), JSONExtract(h, 'lines', 'Array(String)'))), hunks)),
            tool = 'Edit', ADDED(JSONExtractString(input, 'new_string'), JSONExtractString(input, 'old_string')),
            tool = 'MultiEdit', arrayFlatten(arrayMap(e -> ADDED(JSONExtractString(e, 'new_string'),
                                                                 JSONExtractString(e, 'old_string')), edits)),
            JSONExtractString(input, 'edit_mode') = 'delete', CAST([], 'Array(String)'),
            LINES(JSONExtractString(input, 'new_source')))) AS added,
        multiIf(
            tool = 'Write' AND known, arrayMap(x -> toUInt32(x), range(1, length(added) + 1)),
            span_patch, arrayFlatten(arrayMap(h -> arrayFilter((x, line) -> startsWith(line, '+'),
                            arrayMap(k -> toUInt32(JSONExtractUInt(h, 'newStart') + k - 1),
                                     arrayCumSum(arrayMap(line -> NOT startsWith(line, '-') AND NOT startsWith(line, '\\'),
                                                          JSONExtract(h, 'lines', 'Array(String)')))),
                            JSONExtract(h, 'lines', 'Array(String)')), hunks)),
            CAST([], 'Array(UInt32)')) AS line_numbers,
        toInt64(-1) AS lines_added_hint,
        toUInt64(multiIf(
            NOT known, 0,
            span_patch, arraySum(arrayMap(h -> length(arrayFilter(x -> startsWith(x, '-'),
                                     JSONExtract(h, 'lines', 'Array(String)'))), hunks)),
            tool = 'Edit', REMOVED(JSONExtractString(input, 'new_string'), JSONExtractString(input, 'old_string')),
            tool = 'MultiEdit', arraySum(arrayMap(e -> REMOVED(JSONExtractString(e, 'new_string'),
                                                               JSONExtractString(e, 'old_string')), edits)),
            0)) AS lines_removed,
        if(rejected, 'rejected', 'accepted') AS decision,
        has_result AND la['success'] = 'true' AS executed,
        if(rejected, has_span, has_result AND (known OR has_span)) AS ready,
        toUInt64OrZero(la['duration_ms']) * 1000000 AS duration_ns,
        '' AS model_hint,
        ${source}
    FROM texts
    WHERE rejected OR NOT has_result OR la['success'] = 'true'
)
${emit}
