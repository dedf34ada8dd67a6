-- The shared parts of every dialect's derivation (collector/derive/*.sql include them).
--
-- ${derived} (first in a dialect's WITH): what earlier runs derived in the window. A dialect leaves
-- out tool calls already derived (derived_calls) before doing any work on their text.
--
-- ${emit} (last): a dialect defines three CTEs, whatever its events look like:
--   prompts   (tenant, session_id, prompt_key, prompt_ts, prompt_text, prompt_length)
--   requests  one row per model answer: (tenant, session_id, prompt_key, request_key, request_ts,
--             model, provider, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
--             cost_usd, duration_ns, <source>)
--   writes    one row per file a tool call wrote, not derived yet: (tenant, session_id, prompt_key,
--             call_id, file_no, write_ts, link_ts, tool, path, repo_root, known, added, line_numbers,
--             lines_added_hint, lines_removed, decision, executed, ready, duration_ns, model_hint, <source>)
--   where <source> is (resource, service_name, trace_id, parent_span_id, user_id, user_email,
--   user_name, team) of the event the row comes from.
--
-- Rows become generation spans here:
--   * ANSWER: a write belongs to the latest answer (request) of its prompt at or before its link_ts:
--     the answer that asked for it, whose model it names. Requests and writes of a prompt, in time
--     order, form groups: one request and the writes after it, until the next request.
--   * TOKENS AND COST: every request's tokens and cost are carried by exactly one span: the first
--     write of its group, or, when its group has no write, a span of its own without a file ("an
--     answer that wrote no code"). A request whose tokens some span already carries is never counted
--     again (aitrail.derived.request names what a span carries), so sums over ai_generations equal the
--     assistant's own totals, whatever the order in which events arrive.
--   * DUE: a row is derived once what it joins to is there (its prompt, its request, and what the
--     dialect calls ready) and its newest event is older than the settle delay; or, with whatever is
--     there, once it is older than the wait.
--   * ONCE: span ids are deterministic and rows already derived in the window are skipped, so running
--     this again, after a restart or over history, derives nothing twice.
--   * WRAPPED: under `aitrail wrap`, the events belong to the wrapper's run: the trace its resource
--     names (aitrail.wrap.trace_id), else the trace the assistant joined (TRACEPARENT). What a row lacks
--     of the person (user.id, user.email, user.name), the team, the repository (aitrail.repo.root and
--     vcs.*), the wrapper's span gives (the one of the run with process.exit.code, same tenant): the
--     assistant's resource may have lost them (replaced by its own settings, stripped by a collector on
--     the way). A row whose resource names its wrap and lacks some of that waits for the wrap's span,
--     like any companion (it is sent when the assistant exits); a trace the assistant joined is only
--     looked up, never waited for (most traces have no wrapper).
, prompt_once AS (
    SELECT tenant AS p_tenant, session_id AS p_session, prompt_key AS p_key,
           argMin(prompt_text, prompt_ts) AS p_text, argMin(prompt_length, prompt_ts) AS p_length
    FROM prompts
    WHERE prompt_key != ''
    GROUP BY p_tenant, p_session, p_key
)
, items AS (
    SELECT
        'request' AS kind, tenant, session_id, prompt_key, request_ts AS ts, 0 AS order_key, request_ts AS event_ts,
        SPAN_ID('${dialect}', 'request', tenant, session_id, request_key) AS span_id,
        '' AS call_id, toUInt32(0) AS file_no, '' AS tool, '' AS path, '' AS repo_root, 0 AS known,
        CAST([], 'Array(String)') AS added, CAST([], 'Array(UInt32)') AS line_numbers, toInt64(-1) AS lines_added_hint,
        toUInt64(0) AS lines_removed, '' AS decision, 0 AS executed, 1 AS ready, duration_ns,
        model, provider, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd,
        resource, service_name, trace_id, parent_span_id, user_id, user_email, user_name, team
    FROM requests
    UNION ALL
    SELECT
        'write' AS kind, tenant, session_id, prompt_key, link_ts AS ts, 1 AS order_key, write_ts AS event_ts,
        SPAN_ID('${dialect}', 'write', tenant, session_id, call_id, toString(file_no)) AS span_id,
        call_id, file_no, tool, path, repo_root, known, added, line_numbers, lines_added_hint,
        lines_removed, decision, executed, ready, duration_ns,
        model_hint AS model, '' AS provider, toUInt64(0) AS input_tokens, toUInt64(0) AS output_tokens,
        toUInt64(0) AS cache_read_tokens, toUInt64(0) AS cache_creation_tokens, toFloat64(0) AS cost_usd,
        resource, service_name, trace_id, parent_span_id, user_id, user_email, user_name, team
    FROM writes
)
, grouped AS (
    SELECT *,
        if(resource['aitrail.wrap.trace_id'] != '', resource['aitrail.wrap.trace_id'], trace_id) AS wrap_key,
        sum(kind = 'request') OVER (PARTITION BY tenant, session_id, prompt_key ORDER BY ts, order_key, span_id
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS answer_no
    FROM (SELECT * FROM items ORDER BY ts LIMIT 1 BY span_id)
)
, wraps AS (
    SELECT w_tenant, w_trace,
        anyIf(a['user.id'], a['user.id'] != '') AS w_user_id,
        anyIf(a['user.email'], a['user.email'] != '') AS w_user_email,
        anyIf(a['user.name'], a['user.name'] != '') AS w_user_name,
        anyIf(a['aitrail.team'], a['aitrail.team'] != '') AS w_team,
        anyIf(a['aitrail.repo.root'], a['aitrail.repo.root'] != '') AS w_repo_root,
        anyIf(a['vcs.repository.url.full'], a['vcs.repository.url.full'] != '') AS w_repository,
        anyIf(a['vcs.ref.head.name'], a['vcs.ref.head.name'] != '') AS w_branch,
        anyIf(a['vcs.ref.head.revision'], a['vcs.ref.head.revision'] != '') AS w_commit
    FROM (
        SELECT ResourceAttributes['aitrail.tenant.id'] AS w_tenant, TraceId AS w_trace,
               ${attributes} AS a
        FROM ${database}.otel_traces
        WHERE Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
          AND mapContains(SpanAttributes, 'process.exit.code') AND SpanAttributes['aitrail.kind'] IN ('generation', 'observed')
    )
    GROUP BY w_tenant, w_trace
)
, wrapped AS (
    SELECT g.* REPLACE (
            if(g.user_id != '', g.user_id, w.w_user_id) AS user_id,
            if(g.user_email != '', g.user_email, w.w_user_email) AS user_email,
            if(g.user_name != '', g.user_name, w.w_user_name) AS user_name,
            if(g.team != '', g.team, w.w_team) AS team,
            if(g.repo_root != '', g.repo_root, w.w_repo_root) AS repo_root),
        if(g.resource['vcs.repository.url.full'] = '', w.w_repository, '') AS wrap_repository,
        if(g.resource['vcs.ref.head.name'] = '', w.w_branch, '') AS wrap_branch,
        if(g.resource['vcs.ref.head.revision'] = '', w.w_commit, '') AS wrap_commit,
        w.w_trace != '' OR g.resource['aitrail.wrap.trace_id'] = ''
            OR (g.user_email != '' AND g.user_name != '' AND g.team != '') AS wrap_known
    FROM grouped AS g
    LEFT JOIN wraps AS w ON g.tenant = w.w_tenant AND g.wrap_key = w.w_trace
)
, answered AS (
    SELECT
        g.*, p.p_text AS prompt_text, p.p_length AS prompt_length, p.p_key != '' AS has_prompt,
        anyIf(g.span_id, g.kind = 'request') OVER answer AS request_id,
        anyIf(g.model, g.kind = 'request') OVER answer AS request_model,
        anyIf(g.provider, g.kind = 'request') OVER answer AS request_provider,
        anyIf(g.input_tokens, g.kind = 'request') OVER answer AS request_input_tokens,
        anyIf(g.output_tokens, g.kind = 'request') OVER answer AS request_output_tokens,
        anyIf(g.cache_read_tokens, g.kind = 'request') OVER answer AS request_cache_read_tokens,
        anyIf(g.cache_creation_tokens, g.kind = 'request') OVER answer AS request_cache_creation_tokens,
        anyIf(g.cost_usd, g.kind = 'request') OVER answer AS request_cost_usd,
        countIf(g.kind = 'write') OVER answer AS writes_of_answer
    FROM wrapped AS g
    LEFT JOIN prompt_once AS p ON g.tenant = p.p_tenant AND g.session_id = p.p_session AND g.prompt_key = p.p_key
    WINDOW answer AS (PARTITION BY g.tenant, g.session_id, g.prompt_key, g.answer_no)
)
, due AS (
    SELECT *,
        kind = 'write' AND request_id != '' AND request_id NOT IN (SELECT id FROM derived_ids)
        AND row_number() OVER (PARTITION BY tenant, session_id, prompt_key, answer_no, kind
                               ORDER BY event_ts, call_id, file_no) = 1 AS carries
    FROM answered
    WHERE span_id NOT IN (SELECT id FROM derived_ids)
      AND (kind = 'write' OR writes_of_answer = 0)
      AND ((ready AND has_prompt AND request_id != '' AND wrap_known AND event_ts <= fromUnixTimestamp64Nano({settled:Int64}))
           OR event_ts <= fromUnixTimestamp64Nano({given_up:Int64}))
)
, generations AS (
    SELECT
        span_id, event_ts AS ts, tenant, session_id, prompt_key, prompt_text, prompt_length,
        if(request_model != '', request_model, model) AS model, request_provider AS provider,
        multiIf(kind = 'request', span_id, carries, request_id, '') AS carried_request,
        if(kind = 'request' OR carries, request_input_tokens, 0) AS input_tokens,
        if(kind = 'request' OR carries, request_output_tokens, 0) AS output_tokens,
        if(kind = 'request' OR carries, request_cache_read_tokens, 0) AS cache_read_tokens,
        if(kind = 'request' OR carries, request_cache_creation_tokens, 0) AS cache_creation_tokens,
        if(kind = 'request' OR carries, request_cost_usd, 0) AS cost_usd,
        tool, call_id, RELATIVE(path, repo_root) AS file_path, known, added, line_numbers,
        if(lines_added_hint >= 0, toUInt64(lines_added_hint), length(added)) AS lines_added, lines_removed,
        decision, if(executed, 'Ok', 'Unset') AS status, duration_ns, wrap_repository, wrap_branch, wrap_commit,
        resource, service_name, trace_id, parent_span_id, user_id, user_email, user_name, team
    FROM due
)
SELECT
    ts AS Timestamp,
    if(trace_id != '', trace_id, lower(hex(MD5(concat('${dialect}', tenant, session_id, prompt_key))))) AS TraceId,
    span_id AS SpanId,
    parent_span_id AS ParentSpanId,
    '' AS TraceState,
    'aitrail.derived.generation' AS SpanName,
    'Internal' AS SpanKind,
    service_name AS ServiceName,
    resource AS ResourceAttributes,
    'aitrail.derive.${dialect}' AS ScopeName,
    '1' AS ScopeVersion,
    mapFilter((k, v) -> v != '', map(
        'aitrail.kind', 'generation',
        'aitrail.assistant', '${assistant}',
        'aitrail.derived.from', '${dialect}',
        'aitrail.derived.request', carried_request,
        'gen_ai.provider.name', provider,
        'gen_ai.request.model', model,
        'gen_ai.usage.input_tokens', if(carried_request != '', toString(input_tokens), ''),
        'gen_ai.usage.output_tokens', if(carried_request != '', toString(output_tokens), ''),
        'gen_ai.usage.cache_read.input_tokens', if(cache_read_tokens > 0, toString(cache_read_tokens), ''),
        'gen_ai.usage.cache_creation.input_tokens', if(cache_creation_tokens > 0, toString(cache_creation_tokens), ''),
        'aitrail.cost.usd', if(cost_usd > 0, toString(cost_usd), ''),
        'gen_ai.tool.name', tool,
        'gen_ai.tool.call.id', call_id,
        'aitrail.prompt.text', if(prompt_text IN ('<REDACTED>', '[REDACTED]'), '', prompt_text),
        'aitrail.prompt.policy', if(prompt_text IN ('', '<REDACTED>', '[REDACTED]'), if(prompt_key != '', 'none', ''), 'full'),
        'aitrail.prompt.length', prompt_length,
        'session.id', session_id,
        'user.id', user_id,
        'user.email', user_email,
        'user.name', user_name,
        'aitrail.team', team,
        'vcs.repository.url.full', wrap_repository,
        'vcs.ref.head.name', wrap_branch,
        'vcs.ref.head.revision', wrap_commit,
        'code.file.path', file_path,
        'aitrail.code.language', if(file_path != '', LANGUAGE(file_path), ''),
        'aitrail.code.lines_added', if(file_path != '', toString(lines_added), ''),
        'aitrail.code.lines_removed', if(file_path != '' AND lines_removed > 0, toString(lines_removed), ''),
        'aitrail.code.line_start', if(empty(line_numbers), '', toString(arrayMin(line_numbers))),
        'aitrail.code.line_end', if(empty(line_numbers), '', toString(arrayMax(line_numbers))),
        'aitrail.code.line_fingerprints', if(known AND notEmpty(added), toJSONString(FINGERPRINTS(added)), ''),
        'aitrail.decision', decision
    )) AS SpanAttributes,
    duration_ns AS Duration,
    status AS StatusCode,
    '' AS StatusMessage
FROM generations
