-- One row per AI generation, derived inside ClickHouse from otel_traces, so every writer of the
-- raw table (aitrail's collector or the standard OpenTelemetry Collector) feeds it.
-- Attribute names are the vocabulary of aitrail.sdk.vocabulary; span attributes win over
-- resource attributes of the same name.
CREATE TABLE IF NOT EXISTS ${database}.ai_generations (
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    tenant LowCardinality(String),
    team LowCardinality(String),
    user_id String CODEC(ZSTD(1)),
    user_email String CODEC(ZSTD(1)),
    user_name String CODEC(ZSTD(1)),
    assistant LowCardinality(String),
    provider LowCardinality(String),
    model LowCardinality(String),
    session_id String CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    prompt_policy LowCardinality(String),
    prompt String CODEC(ZSTD(3)),
    prompt_hash String CODEC(ZSTD(1)),
    input_tokens UInt64 CODEC(T64, ZSTD(1)),
    output_tokens UInt64 CODEC(T64, ZSTD(1)),
    cost_usd Float64 CODEC(ZSTD(1)),
    repository LowCardinality(String),
    branch LowCardinality(String),
    commit String CODEC(ZSTD(1)),
    file_path String CODEC(ZSTD(1)),
    language LowCardinality(String),
    line_start UInt32 CODEC(T64, ZSTD(1)),
    line_end UInt32 CODEC(T64, ZSTD(1)),
    lines_added UInt32 CODEC(T64, ZSTD(1)),
    lines_removed UInt32 CODEC(T64, ZSTD(1)),
    line_fingerprints Array(UInt64) CODEC(ZSTD(1)),
    decision LowCardinality(String),
    status LowCardinality(String),
    duration_ns UInt64 CODEC(T64, ZSTD(1)),
    service_name LowCardinality(String),
    INDEX idx_fingerprints line_fingerprints TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_user user_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, toDate(timestamp), team, assistant, timestamp)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000;

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
       AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
            OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != '')));
