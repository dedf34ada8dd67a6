-- Assistants whose generations are derived from their own events (collector/derive) must not also
-- count through the generic rule. Claude Code's claude_code.llm_request spans say
-- gen_ai.operation.name = "chat", so 0004's view made each of them a generation, without file or
-- prompt; now its generations (a file-writing tool call, or an answer that wrote none, with tokens
-- and cost) come from its events, and its spans only stay in otel_traces. Gemini CLI's spans are
-- left out the same way, should a version call them generate_content. Everything else is unchanged:
-- spans with aitrail.kind = generation (the SDK's, and the derived ones), and any other GenAI span.
--
-- A materialized view cannot change its query in place (without an experimental setting), so it is
-- dropped and created again. The collector applies migrations before it accepts data; another
-- writer of otel_traces (the OpenTelemetry Collector into a ClickHouse server) should be paused
-- while this runs, or the spans it inserts in between reach otel_traces but not ai_generations.
DROP VIEW IF EXISTS ${database}.ai_generations_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_generations_mv
TO ${database}.ai_generations
AS WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
SELECT
    Timestamp AS timestamp,
    ResourceAttributes['aitrail.tenant.id'] AS tenant,
    a['aitrail.team'] AS team,
    a['user.id'] AS user_id,
    a['user.email'] AS user_email,
    a['user.name'] AS user_name,
    if(a['aitrail.assistant'] != '', a['aitrail.assistant'], ServiceName) AS assistant,
    a['gen_ai.provider.name'] AS provider,
    if(a['gen_ai.response.model'] != '', a['gen_ai.response.model'], a['gen_ai.request.model']) AS model,
    a['session.id'] AS session_id,
    TraceId AS trace_id,
    SpanId AS span_id,
    a['aitrail.prompt.policy'] AS prompt_policy,
    a['aitrail.prompt.text'] AS prompt,
    a['aitrail.prompt.hash'] AS prompt_hash,
    toUInt64OrZero(a['gen_ai.usage.input_tokens']) AS input_tokens,
    toUInt64OrZero(a['gen_ai.usage.output_tokens']) AS output_tokens,
    toFloat64OrZero(a['aitrail.cost.usd']) AS cost_usd,
    a['vcs.repository.url.full'] AS repository,
    a['vcs.ref.head.name'] AS branch,
    a['vcs.ref.head.revision'] AS commit,
    a['code.file.path'] AS file_path,
    a['aitrail.code.language'] AS language,
    toUInt32OrZero(a['aitrail.code.line_start']) AS line_start,
    toUInt32OrZero(a['aitrail.code.line_end']) AS line_end,
    toUInt32OrZero(a['aitrail.code.lines_added']) AS lines_added,
    toUInt32OrZero(a['aitrail.code.lines_removed']) AS lines_removed,
    arrayMap(x -> reinterpretAsUInt64(x), JSONExtract(a['aitrail.code.line_fingerprints'], 'Array(Int64)')) AS line_fingerprints,
    a['aitrail.decision'] AS decision,
    StatusCode AS status,
    Duration AS duration_ns,
    ServiceName AS service_name
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'generation'
   OR (SpanAttributes['aitrail.kind'] = ''
       AND NOT startsWith(SpanName, 'claude_code.')
       AND NOT startsWith(ScopeName, 'com.anthropic.claude_code')
       AND SpanAttributes['gen_ai.agent.name'] != 'gemini-cli'
       AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
            OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != '')));
