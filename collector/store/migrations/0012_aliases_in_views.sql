-- Aliases are resolved where attributes are read, no longer in the raw tables: the collector stores every
-- attribute as it was sent (a resource attribute `team` stays `team`, `gen_ai.system` stays `gen_ai.system`),
-- and the views that read an aliased name (the team, the provider, the session, the tokens) read them through
-- ${attributes}: a span's attributes over its resource's, each map with its aliases resolved
-- (aitrail.collector.store.aliases, generated from aitrail.sdk.vocabulary.ALIASES: the canonical name wins
-- when both are present, and an item's own attributes win over its resource's, as when the collector renamed
-- them). Nothing else in these views changes.
--
-- A materialized view is dropped and created again (never ALTER ... MODIFY QUERY: a retried insert must make
-- the same blocks in every view). Rows already derived (ai_generations, the records, the cost estimates)
-- keep what was derived from the attributes as they were then renamed; only rows inserted from now on are
-- read through the aliases. As with 0005, another writer of otel_traces (an OpenTelemetry Collector into a
-- ClickHouse server) should be paused while this runs, or the spans it inserts in between reach otel_traces
-- but not the views. The collector applies migrations before it accepts data.

DROP VIEW IF EXISTS ${database}.ai_generations_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_generations_mv
TO ${database}.ai_generations
AS WITH ${attributes} AS a
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

DROP VIEW IF EXISTS ${database}.ai_commits_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_commits_mv
TO ${database}.ai_commits
AS WITH ${attributes} AS a
SELECT
    ResourceAttributes['aitrail.tenant.id'] AS tenant,
    Timestamp AS timestamp,
    a['vcs.repository.url.full'] AS repository,
    a['vcs.ref.head.revision'] AS commit,
    JSONExtract(a['aitrail.commit.parents'], 'Array(String)') AS parents,
    a['vcs.ref.head.name'] AS branch,
    a['user.email'] AS author_email,
    a['user.name'] AS author_name,
    a['user.id'] AS user_id,
    a['aitrail.commit.committer.email'] AS committer_email,
    a['aitrail.team'] AS team,
    toUInt32OrZero(a['aitrail.code.lines_added']) AS lines_added,
    toUInt32OrZero(a['aitrail.commit.ai_lines']) AS ai_lines,
    `Links.SpanId` AS generation_ids,
    JSONExtract(a['aitrail.commit.assistants'], 'Array(String)') AS assistants,
    JSONExtract(a['aitrail.commit.trailers'], 'Array(String)') AS trailers,
    a['aitrail.commit.files'] AS files,
    TraceId AS trace_id,
    SpanId AS span_id,
    now64(9) AS recorded_at
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'commit';

DROP VIEW IF EXISTS ${database}.ai_findings_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_findings_mv
TO ${database}.ai_findings
AS WITH ${attributes} AS a
SELECT
    ResourceAttributes['aitrail.tenant.id'] AS tenant,
    a['aitrail.finding.id'] AS finding_id,
    Timestamp AS timestamp,
    a['aitrail.finding.source'] AS source,
    a['aitrail.finding.rule'] AS rule,
    JSONExtract(a['aitrail.finding.cwe'], 'Array(String)') AS cwe,
    a['aitrail.severity'] AS severity,
    a['aitrail.finding.message'] AS message,
    a['vcs.repository.url.full'] AS repository,
    a['vcs.ref.head.revision'] AS commit,
    a['code.file.path'] AS file_path,
    toUInt32OrZero(a['aitrail.code.line_start']) AS line_start,
    toUInt32OrZero(a['aitrail.code.line_end']) AS line_end,
    arrayMap(x -> reinterpretAsUInt64(x), JSONExtract(a['aitrail.code.line_fingerprints'], 'Array(Int64)')) AS line_fingerprints,
    a['aitrail.finding.line_text'] AS line_text,
    toUInt8(a['aitrail.finding.resolved'] IN ('true', '1')) AS resolved,
    a['aitrail.finding.caught_at'] AS caught_at,
    a['aitrail.generation.trace_id'] AS generation_trace_id,
    a['aitrail.generation.span_id'] AS generation_span_id,
    a['aitrail.status'] AS status,
    a['aitrail.team'] AS team,
    a['aitrail.finding.introduced.commit'] AS introduced_commit,
    toDateTime(toUInt32OrZero(a['aitrail.finding.introduced.time']), 'UTC') AS introduced_at,
    a['aitrail.finding.introduced.author'] AS introduced_author,
    now64(9) AS recorded_at
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'finding';

DROP VIEW IF EXISTS ${database}.ai_incidents_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_incidents_mv
TO ${database}.ai_incidents
AS WITH ${attributes} AS a
SELECT
    ResourceAttributes['aitrail.tenant.id'] AS tenant,
    a['aitrail.incident.id'] AS incident_id,
    Timestamp AS timestamp,
    a['aitrail.incident.title'] AS title,
    a['aitrail.severity'] AS severity,
    a['aitrail.status'] AS status,
    toFloat64OrZero(a['aitrail.cost.usd']) AS cost_usd,
    a['aitrail.incident.locations'] AS locations,
    JSONExtract(a['aitrail.incident.commits'], 'Array(String)') AS commits,
    JSONExtract(a['aitrail.incident.findings'], 'Array(String)') AS finding_ids,
    a['vcs.repository.url.full'] AS repository,
    a['aitrail.team'] AS team,
    now64(9) AS recorded_at
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'incident';

DROP VIEW IF EXISTS ${database}.ai_signoffs_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_signoffs_mv
TO ${database}.ai_signoffs
AS WITH ${attributes} AS a
SELECT
    ResourceAttributes['aitrail.tenant.id'] AS tenant,
    a['aitrail.signoff.id'] AS signoff_id,
    Timestamp AS timestamp,
    a['vcs.repository.url.full'] AS repository,
    a['vcs.ref.head.revision'] AS commit,
    a['aitrail.signoff.change'] AS change,
    a['aitrail.signoff.role'] AS role,
    a['user.email'] AS signer_email,
    a['user.name'] AS signer_name,
    a['user.id'] AS signer_id,
    a['aitrail.identity.source'] AS identity_source,
    a['aitrail.signoff.source'] AS source,
    JSONExtract(if(a['aitrail.signoff.checklist'] = '', '{}', a['aitrail.signoff.checklist']), 'Map(String, String)') AS checklist,
    a['aitrail.signoff.note'] AS note,
    a['aitrail.team'] AS team,
    now64(9) AS recorded_at
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'signoff';

DROP VIEW IF EXISTS ${database}.ai_cost_estimates_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_cost_estimates_mv
TO ${database}.ai_cost_estimates
AS SELECT
    s.tenant AS tenant, s.timestamp AS timestamp, s.trace_id AS trace_id, s.span_id AS span_id, s.team AS team,
    s.user_email AS user_email, s.repository AS repository, s.model AS model, p.model AS price_model,
    s.input_tokens AS input_tokens, s.output_tokens AS output_tokens, s.cache_read_tokens AS cache_read_tokens,
    s.cache_write_tokens AS cache_write_tokens,
    (greatest(toInt64(s.input_tokens) - toInt64(s.cache_read_tokens) - toInt64(s.cache_write_tokens), 0)
         * p.input_usd_per_mtok
     + s.cache_read_tokens * p.cache_read_usd_per_mtok
     + s.cache_write_tokens * p.cache_write_usd_per_mtok
     + s.output_tokens * p.output_usd_per_mtok) / 1e6 AS estimated_cost_usd,
    now64(9) AS recorded_at
FROM (
    WITH ${attributes} AS a
    SELECT
        ResourceAttributes['aitrail.tenant.id'] AS tenant, Timestamp AS timestamp, TraceId AS trace_id,
        SpanId AS span_id, a['aitrail.team'] AS team, a['user.email'] AS user_email,
        a['vcs.repository.url.full'] AS repository,
        if(a['gen_ai.response.model'] != '', a['gen_ai.response.model'], a['gen_ai.request.model']) AS model,
        replaceRegexpOne(replaceRegexpOne(lower(model), '^.*/', ''),
                         '(-latest|-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8})$$', '') AS price_key,
        toUInt64OrZero(a['gen_ai.usage.input_tokens']) AS input_tokens,
        toUInt64OrZero(a['gen_ai.usage.output_tokens']) AS output_tokens,
        toUInt64OrZero(a['gen_ai.usage.cache_read.input_tokens']) AS cache_read_tokens,
        toUInt64OrZero(a['gen_ai.usage.cache_creation.input_tokens']) AS cache_write_tokens
    FROM ${database}.otel_traces
    WHERE toFloat64OrZero(mapUpdate(ResourceAttributes, SpanAttributes)['aitrail.cost.usd']) = 0
      AND (SpanAttributes['aitrail.kind'] = 'generation'
           OR (SpanAttributes['aitrail.kind'] = ''
               AND NOT startsWith(SpanName, 'claude_code.')
               AND NOT startsWith(ScopeName, 'com.anthropic.claude_code')
               AND SpanAttributes['gen_ai.agent.name'] != 'gemini-cli'
               AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
                    OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != ''))))
) AS s
INNER JOIN (SELECT * FROM ${database}.ai_prices FINAL) AS p ON p.model = s.price_key
WHERE s.input_tokens + s.output_tokens > 0;
