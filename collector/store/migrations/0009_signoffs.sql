-- Sign-offs as typed rows (docs/design/records.md): who reviewed or approved which commit, in which role,
-- with which checklist answers, read from the CLI, commit trailers or a code host's review export. A
-- materialized view over otel_traces (aitrail.kind = signoff), like every typed table; deterministic ids
-- make a re-import add nothing visible (read with FINAL).

CREATE TABLE IF NOT EXISTS ${database}.ai_signoffs (
    tenant LowCardinality(String),
    signoff_id String,
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    repository LowCardinality(String),
    commit String CODEC(ZSTD(1)),
    change String CODEC(ZSTD(1)),
    role LowCardinality(String),
    signer_email String CODEC(ZSTD(1)),
    signer_name String CODEC(ZSTD(1)),
    signer_id String CODEC(ZSTD(1)),
    identity_source String CODEC(ZSTD(1)),
    source LowCardinality(String),
    checklist Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    note String CODEC(ZSTD(3)),
    team LowCardinality(String),
    recorded_at DateTime64(9)
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (tenant, signoff_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_signoffs_mv
TO ${database}.ai_signoffs
AS WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
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

-- Cost when the sender gives none (Codex, Gemini CLI and the instrumented anthropic/openai clients send tokens
-- only). ai_prices holds USD per million tokens per model family (collector/store/prices.csv, shipped; the
-- collector's [[collector.prices]] overrides it; collector/store/prices.py fills it). A model name is looked up
-- by its family: lower case, without a provider prefix ("models/", "openai/") and without a trailing date or
-- "-latest" (claude-sonnet-4-5-20250929 -> claude-sonnet-4-5, gpt-4o-2024-08-06 -> gpt-4o).
CREATE TABLE IF NOT EXISTS ${database}.ai_prices (
    model String,
    provider LowCardinality(String),
    input_usd_per_mtok Float64,
    output_usd_per_mtok Float64,
    cache_read_usd_per_mtok Float64,
    cache_write_usd_per_mtok Float64,
    taken_on Date,
    source String,
    updated_at DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY model;

-- The estimated cost of each generation whose sender gave no cost but tokens, priced by ai_prices when it
-- arrived. One row per generation span (ReplacingMergeTree: a retried batch adds nothing visible; read it
-- grouped by span). A report's cost is ai_generations.cost_usd plus this estimate, shown apart. Made from
-- otel_traces (the spans ai_generations_mv takes, the same condition) because the cache token counts are
-- only there; kept out of ai_generations_mv itself, whose query is left as 0005 made it: changing it (a
-- join, or even ALTER ... MODIFY QUERY) made the spool's deduplicated retries insert generations twice in
-- the store-outage fault test.
CREATE TABLE IF NOT EXISTS ${database}.ai_cost_estimates (
    tenant LowCardinality(String),
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    team LowCardinality(String),
    user_email String CODEC(ZSTD(1)),
    repository LowCardinality(String),
    model LowCardinality(String),
    price_model LowCardinality(String),
    input_tokens UInt64,
    output_tokens UInt64,
    cache_read_tokens UInt64,
    cache_write_tokens UInt64,
    estimated_cost_usd Float64,
    recorded_at DateTime64(9)
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (tenant, span_id)
SETTINGS non_replicated_deduplication_window = 10000;

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
    WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
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
