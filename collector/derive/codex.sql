-- Codex CLI (codex-rs): generations from its native OpenTelemetry log events ([otel] exporter in
-- ~/.codex/config.toml). Every event names itself in the attribute event.name (its OTLP event name
-- is the Rust source location) and carries conversation.id, model, and, when signed in with
-- ChatGPT, user.email and user.account_id.
--
-- A generation is one file of an apply_patch call: codex.tool_result's "arguments" holds the whole
-- patch ("*** Begin Patch" ... "*** End Patch"; the freeform tool's input, or inside the JSON of a
-- function call or a shell command), one "*** Add/Update/Delete File:" section per file ("*** Move
-- to:" renames). Added lines are the section's "+" lines; an added file's lines are 1..n, an
-- updated file's line numbers are not in the patch (its hunks are anchored by context, not numbers).
-- A patch without its "*** End Patch" was cut, and gives no fingerprints.
-- Joined to:
--   codex.user_prompt     the turn's prompt, when log_user_prompt = true (else "[REDACTED]"): the
--                         latest prompt of the conversation before the call. When traces are exported
--                         the events of a turn also share a trace id, and a prompt with another one is
--                         not taken (the right one has not arrived yet).
--   codex.sse_event       kind response.completed with token counts: one per model answer; input
--                         includes cached input (OpenAI counts it in), output includes reasoning.
--                         Codex reports no cost.
--   codex.tool_decision   (same call_id) approved* -> accepted, denied/abort -> rejected; a call without
--                         one was approved by policy.
-- Calls that failed without a rejection (the patch did not apply) are not generations.
INSERT INTO ${database}.otel_traces
    (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
     ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage)
WITH
${derived}
, raw_events AS (
    SELECT
        Timestamp AS ts, TraceId AS trace_id, SpanId AS span_id, ServiceName AS service_name,
        -- OTEL_RESOURCE_ATTRIBUTES values come percent-encoded where W3C baggage forbids a character (a
        -- space in a person's name: "Alice%20Smith", as aitrail wrap and the specification write them); the
        -- Node, Python and Go SDKs decode them, Codex's Rust SDK does not: decoded here. (A '%' that starts
        -- no valid escape stays as it is.)
        mapApply((k, v) -> (k, if(position(v, '%') > 0, decodeURLComponent(v), v)), ResourceAttributes) AS resource,
        LogAttributes AS la,
        ResourceAttributes['aitrail.tenant.id'] AS tenant,
        LogAttributes['event.name'] AS event,
        if(LogAttributes['conversation.id'] != '', LogAttributes['conversation.id'], ALIASED(resource)['session.id']) AS session_id
    FROM ${database}.otel_logs
    WHERE TimestampTime >= toDateTime(fromUnixTimestamp64Nano({window_start:Int64}))
      AND Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
      AND LogAttributes['event.name'] IN ('codex.user_prompt', 'codex.api_request', 'codex.sse_event',
                                          'codex.tool_result', 'codex.tool_decision')
)
-- Each event's turn, in one pass over the conversation in time order: the latest prompt at or before
-- it. An answer's token counts (codex.sse_event) carry no trace id: they take the one of the request
-- they answer (the latest codex.api_request before them), so they too belong to their turn.
, in_turn AS (
    SELECT * EXCEPT (api_trace, turn_ts, turn_trace),
        if(toUnixTimestamp64Nano(turn_ts) > 0 AND (trace_id = '' OR turn_trace = '' OR trace_id = turn_trace),
           toString(toUnixTimestamp64Nano(turn_ts)), '') AS prompt_key
    FROM (
        SELECT * REPLACE (if(trace_id != '', trace_id, api_trace) AS trace_id)
        FROM (
            SELECT *,
                argMaxIf(trace_id, ts, event = 'codex.api_request' AND trace_id != '') OVER conversation AS api_trace,
                maxIf(ts, event = 'codex.user_prompt') OVER conversation AS turn_ts,
                argMaxIf(trace_id, ts, event = 'codex.user_prompt') OVER conversation AS turn_trace
            FROM raw_events
            WINDOW conversation AS (PARTITION BY tenant, session_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
    )
    WHERE event != 'codex.tool_decision'
)
, prompts AS (
    SELECT tenant, session_id, toString(toUnixTimestamp64Nano(ts)) AS prompt_key, ts AS prompt_ts,
           la['prompt'] AS prompt_text, la['prompt_length'] AS prompt_length
    FROM raw_events
    WHERE event = 'codex.user_prompt'
)
, requests AS (
    SELECT
        tenant, session_id, prompt_key,
        toString(toUnixTimestamp64Nano(ts)) AS request_key,
        ts AS request_ts,
        la['model'] AS model,
        'openai' AS provider,
        toUInt64OrZero(la['input_token_count']) AS input_tokens,
        toUInt64OrZero(la['output_token_count']) AS output_tokens,
        toUInt64OrZero(la['cached_token_count']) AS cache_read_tokens,
        toUInt64OrZero(la['cache_write_token_count']) AS cache_creation_tokens,
        toFloat64(0) AS cost_usd,
        toUInt64(0) AS duration_ns,
        ${source}
    FROM in_turn
    WHERE event = 'codex.sse_event' AND la['event.kind'] = 'response.completed' AND la['input_token_count'] != ''
)
, decisions AS (
    SELECT tenant AS decision_tenant, session_id AS decision_session, la['call_id'] AS decision_call,
           any(la['decision']) AS raw_decision
    FROM raw_events
    WHERE event = 'codex.tool_decision'
    GROUP BY decision_tenant, decision_session, decision_call
)
, patches AS (
    SELECT
        i.*, d.raw_decision AS raw_decision,
        la['arguments'] AS arguments,
        if(isValidJSON(arguments),
           multiIf(JSONExtractString(arguments, 'input') != '', JSONExtractString(arguments, 'input'),
                   JSONExtractString(arguments, 'patch') != '', JSONExtractString(arguments, 'patch'),
                   JSONExtractString(arguments, 'cmd') != '', JSONExtractString(arguments, 'cmd'),
                   arrayStringConcat(JSONExtract(arguments, 'command', 'Array(String)'), ' ')),
           arguments) AS body,
        splitByChar('\n', substring(body, position(body, '*** Begin Patch'))) AS all_lines,
        arrayFirstIndex(x -> startsWith(x, '*** End Patch'), all_lines) AS end_at,
        if(end_at > 0, arraySlice(all_lines, 1, end_at), all_lines) AS plines,
        arrayMap(x -> startsWith(x, '*** Add File: ') OR startsWith(x, '*** Update File: ')
                      OR startsWith(x, '*** Delete File: '), plines) AS heads,
        arrayCumSum(heads) AS file_index,
        arraySum(heads) AS files
    FROM in_turn AS i
    LEFT JOIN decisions AS d
        ON i.tenant = d.decision_tenant AND i.session_id = d.decision_session AND i.la['call_id'] = d.decision_call
    WHERE i.event = 'codex.tool_result' AND position(body, '*** Begin Patch') > 0
      AND (i.tenant, i.la['call_id']) NOT IN (SELECT derived_tenant, derived_call FROM derived_calls)
)
, sections AS (
    SELECT *, file_no,
        arrayFilter((x, k) -> k = file_no, plines, file_index) AS section,
        section[1] AS head,
        multiIf(startsWith(head, '*** Add File: '), 'add', startsWith(head, '*** Update File: '), 'update', 'delete') AS op,
        arrayFirst(x -> startsWith(x, '*** Move to: '), section) AS moved_to
    FROM patches
    ARRAY JOIN range(1, toUInt64(files) + 1) AS file_no
)
, writes AS (
    SELECT
        tenant, session_id, prompt_key, la['call_id'] AS call_id, toUInt32(file_no) AS file_no,
        ts AS write_ts, ts AS link_ts, la['tool_name'] AS tool,
        if(moved_to != '', substring(moved_to, 14), replaceRegexpOne(head, '^\\*\\*\\* (Add|Update|Delete) File: ', '')) AS path,
        if(la['aitrail.repo.root'] != '', la['aitrail.repo.root'], resource['aitrail.repo.root']) AS repo_root,
        end_at > 0 AS known,
        arrayMap(x -> replaceRegexpOne(substring(x, 2), '\r$$', ''), arrayFilter(x -> startsWith(x, '+'), section)) AS added,
        if(op = 'add', arrayMap(x -> toUInt32(x), range(1, length(added) + 1)), CAST([], 'Array(UInt32)')) AS line_numbers,
        toInt64(-1) AS lines_added_hint,
        toUInt64(length(arrayFilter(x -> startsWith(x, '-'), section))) AS lines_removed,
        multiIf(startsWith(raw_decision, 'approved'), 'accepted',
                raw_decision IN ('denied', 'abort', 'timed_out'), 'rejected',
                'accepted') AS decision,
        la['success'] = 'true' AS executed,
        1 AS ready,
        toUInt64OrZero(la['duration_ms']) * 1000000 AS duration_ns,
        la['model'] AS model_hint,
        ${source}
    FROM sections
    WHERE la['success'] = 'true' OR raw_decision IN ('denied', 'abort', 'timed_out')
)
${emit}
