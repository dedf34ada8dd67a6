-- Gemini CLI: generations from its native OpenTelemetry log events (telemetry.enabled, target
-- local, an OTLP endpoint). Every event carries event.name, session.id, installation.id, and
-- user.email when signed in with Google.
--
-- A generation is a file-writing tool call, gemini_cli.tool_call with function_name write_file
-- (the whole file: lines 1..n) or replace (old_string -> new_string; added lines are those of
-- new_string that old_string does not have, their line numbers are not sent). The call's
-- function_args hold the file path and the text; its metadata, the model's added and removed line
-- counts, which win over ours. decision accept/auto_accept/modify -> accepted, reject/cancel ->
-- rejected (a rejected call still shows what was proposed). Tool calls carry no id: the call is
-- known by its time and name. Joined to:
--   gemini_cli.user_prompt    (same prompt_id) the prompt, unless telemetry.logPrompts is false
--   gemini_cli.api_response   (same prompt_id, latest before the call) model and tokens of each
--                             answer; input counts cached content in, output adds the thoughts.
--                             Gemini CLI reports no cost.
-- Calls that failed without a rejection are not generations.
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
        LogAttributes['prompt_id'] AS prompt_key
    FROM ${database}.otel_logs
    WHERE TimestampTime >= toDateTime(fromUnixTimestamp64Nano({window_start:Int64}))
      AND Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
      AND LogAttributes['event.name'] IN ('gemini_cli.user_prompt', 'gemini_cli.api_response', 'gemini_cli.tool_call')
)
, prompts AS (
    SELECT tenant, session_id, prompt_key, ts AS prompt_ts,
           la['prompt'] AS prompt_text, la['prompt_length'] AS prompt_length
    FROM events
    WHERE event = 'gemini_cli.user_prompt'
)
, requests AS (
    SELECT
        tenant, session_id, prompt_key,
        toString(toUnixTimestamp64Nano(ts)) AS request_key,
        ts AS request_ts,
        la['model'] AS model,
        if(la['auth_type'] IN ('vertex-ai', 'compute-default-credentials'), 'gcp.vertex_ai', 'gcp.gemini') AS provider,
        toUInt64OrZero(la['input_token_count']) AS input_tokens,
        toUInt64OrZero(la['output_token_count']) + toUInt64OrZero(la['thoughts_token_count']) AS output_tokens,
        toUInt64OrZero(la['cached_content_token_count']) AS cache_read_tokens,
        toUInt64(0) AS cache_creation_tokens,
        toFloat64(0) AS cost_usd,
        toUInt64OrZero(la['duration_ms']) * 1000000 AS duration_ns,
        ${source}
    FROM events
    WHERE event = 'gemini_cli.api_response'
)
, calls AS (
    SELECT *,
        concat(toString(toUnixTimestamp64Nano(ts)), '/', la['function_name']) AS call_id,
        la['function_name'] AS tool,
        la['function_args'] AS args,
        isValidJSON(args) AS args_ok,
        la['metadata'] AS meta,
        multiIf(la['decision'] IN ('accept', 'auto_accept', 'modify'), 'accepted',
                la['decision'] IN ('reject', 'cancel'), 'rejected',
                'accepted') AS decision
    FROM events
    WHERE event = 'gemini_cli.tool_call'
      AND la['function_name'] IN ('write_file', 'replace', 'edit')
      AND (tenant, call_id) NOT IN (SELECT derived_tenant, derived_call FROM derived_calls)
)
, writes AS (
    SELECT
        tenant, session_id, prompt_key,
        call_id, toUInt32(0) AS file_no,
        ts AS write_ts, ts AS link_ts, tool,
        multiIf(JSONExtractString(args, 'file_path') != '', JSONExtractString(args, 'file_path'),
                JSONExtractString(args, 'absolute_path')) AS path,
        if(la['aitrail.repo.root'] != '', la['aitrail.repo.root'], resource['aitrail.repo.root']) AS repo_root,
        args_ok AND (JSONHas(args, 'content') OR JSONHas(args, 'new_string')) AS known,
        multiIf(NOT known, CAST([], 'Array(String)'),
                tool = 'write_file', LINES(JSONExtractString(args, 'content')),
                ADDED(JSONExtractString(args, 'new_string'), JSONExtractString(args, 'old_string'))) AS added,
        if(tool = 'write_file' AND known, arrayMap(x -> toUInt32(x), range(1, length(added) + 1)),
           CAST([], 'Array(UInt32)')) AS line_numbers,
        if(JSONHas(meta, 'model_added_lines'), JSONExtractInt(meta, 'model_added_lines'), toInt64(-1)) AS lines_added_hint,
        toUInt64(if(JSONHas(meta, 'model_removed_lines'), JSONExtractUInt(meta, 'model_removed_lines'),
                    if(known AND tool != 'write_file',
                       REMOVED(JSONExtractString(args, 'new_string'), JSONExtractString(args, 'old_string')), 0))) AS lines_removed,
        decision,
        la['success'] = 'true' AS executed,
        1 AS ready,
        toUInt64OrZero(la['duration_ms']) * 1000000 AS duration_ns,
        '' AS model_hint,
        ${source}
    FROM calls
    WHERE la['success'] = 'true' OR decision = 'rejected'
)
${emit}
