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

ALTER TABLE ${database}.ai_generations
    ADD COLUMN IF NOT EXISTS cost_estimated UInt8 DEFAULT 0 AFTER cost_usd;

-- The ONE change to ai_generations_mv (0005's query otherwise unchanged; issue #16's 0010 builds on this):
-- spans reach it through a subquery that adds the model family (price_key), joined to ai_prices; cost_usd is
-- the sender's aitrail.cost.usd when it sent one, else the estimate from tokens and the price table, and
-- cost_estimated says which. Cache tokens are part of the input tokens (vocabulary) and priced at the cache
-- rates; a model the table does not know keeps cost 0, not estimated.
ALTER TABLE ${database}.ai_generations_mv MODIFY QUERY
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
    if(a['aitrail.cost.usd'] != '' OR p.model = '',
       toFloat64OrZero(a['aitrail.cost.usd']),
       (greatest(toInt64(input_tokens) - toInt64(toUInt64OrZero(a['gen_ai.usage.cache_read.input_tokens']))
                 - toInt64(toUInt64OrZero(a['gen_ai.usage.cache_creation.input_tokens'])), 0) * p.input_usd_per_mtok
        + toUInt64OrZero(a['gen_ai.usage.cache_read.input_tokens']) * p.cache_read_usd_per_mtok
        + toUInt64OrZero(a['gen_ai.usage.cache_creation.input_tokens']) * p.cache_write_usd_per_mtok
        + output_tokens * p.output_usd_per_mtok) / 1e6) AS cost_usd,
    toUInt8(a['aitrail.cost.usd'] = '' AND p.model != '' AND input_tokens + output_tokens > 0) AS cost_estimated,
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
FROM (
    SELECT *, mapUpdate(ResourceAttributes, SpanAttributes) AS a,
           replaceRegexpOne(replaceRegexpOne(lower(if(a['gen_ai.response.model'] != '', a['gen_ai.response.model'],
                                                     a['gen_ai.request.model'])), '^.*/', ''),
                            '(-latest|-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8})$$', '') AS price_key
    FROM ${database}.otel_traces
    WHERE SpanAttributes['aitrail.kind'] = 'generation'
       OR (SpanAttributes['aitrail.kind'] = ''
           AND NOT startsWith(SpanName, 'claude_code.')
           AND NOT startsWith(ScopeName, 'com.anthropic.claude_code')
           AND SpanAttributes['gen_ai.agent.name'] != 'gemini-cli'
           AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
                OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != '')))
) AS s
LEFT JOIN (SELECT * FROM ${database}.ai_prices FINAL) AS p ON p.model = s.price_key;
