-- aitrail's schema for a ClickHouse cluster (shards of replicas). GENERATED: do not edit.
-- Source: collector/store/migrations/*.sql, through deploy/clickhouse/make_cluster_sql.py
-- (the docstring there lists every transformation). Regenerate after changing a migration:
--     python deploy/clickhouse/make_cluster_sql.py --write
-- aitrail_local: each shard's replicated tables and materialized views. aitrail: a Distributed table over
-- each of them, sharded by tenant (what collectors and dashboards use), and the tables every node holds.
-- Run once, before the first collector starts, and again after every aitrail upgrade
-- (every statement is idempotent), on one node of every shard:
--     clickhouse-client --host <a node> --user <admin> --ask-password --multiquery < cluster.sql
-- The servers need the macros {cluster}, {shard} and {replica} and a Keeper (or ZooKeeper).

CREATE DATABASE IF NOT EXISTS aitrail ON CLUSTER '{cluster}';

CREATE DATABASE IF NOT EXISTS aitrail_local ON CLUSTER '{cluster}';

CREATE TABLE IF NOT EXISTS aitrail.schema_migrations ON CLUSTER '{cluster}' (version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3))
ENGINE = ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}') ORDER BY version;

-- 0001_otel_traces
CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_traces ON CLUSTER '{cluster}' (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    ResourceAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(ResourceAttributes, 'Array(Tuple(String, String))')),
    SpanAttributeItems Array(String) ALIAS arrayMap(kv -> concat(kv.1, '=', kv.2), CAST(SpanAttributes, 'Array(Tuple(String, String))')),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_traces ON CLUSTER '{cluster}' AS aitrail_local.otel_traces
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_traces', cityHash64(ResourceAttributes['aitrail.tenant.id']));

CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_traces_trace_id_ts ON CLUSTER '{cluster}' (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_traces_trace_id_ts ON CLUSTER '{cluster}' AS aitrail_local.otel_traces_trace_id_ts
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_traces_trace_id_ts');

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.otel_traces_trace_id_ts_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.otel_traces_trace_id_ts
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM `aitrail_local`.otel_traces
WHERE TraceId != ''
GROUP BY TraceId;

-- 0002_otel_logs
CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_logs ON CLUSTER '{cluster}' (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_logs ON CLUSTER '{cluster}' AS aitrail_local.otel_logs
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_logs', cityHash64(ResourceAttributes['aitrail.tenant.id']));

-- 0003_otel_metrics
CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_metrics_gauge ON CLUSTER '{cluster}' (
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName String CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Exemplars Nested (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_metrics_gauge ON CLUSTER '{cluster}' AS aitrail_local.otel_metrics_gauge
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_metrics_gauge', cityHash64(ResourceAttributes['aitrail.tenant.id']));

CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_metrics_sum ON CLUSTER '{cluster}' (
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName String CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Exemplars Nested (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    IsMonotonic Boolean CODEC(Delta, ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_metrics_sum ON CLUSTER '{cluster}' AS aitrail_local.otel_metrics_sum
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_metrics_sum', cityHash64(ResourceAttributes['aitrail.tenant.id']));

CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_metrics_histogram ON CLUSTER '{cluster}' (
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName String CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    BucketCounts Array(UInt64) CODEC(ZSTD(1)),
    ExplicitBounds Array(Float64) CODEC(ZSTD(1)),
    Exemplars Nested (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_metrics_histogram ON CLUSTER '{cluster}' AS aitrail_local.otel_metrics_histogram
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_metrics_histogram', cityHash64(ResourceAttributes['aitrail.tenant.id']));

CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_metrics_exponential_histogram ON CLUSTER '{cluster}' (
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName String CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    Scale Int32 CODEC(ZSTD(1)),
    ZeroCount UInt64 CODEC(ZSTD(1)),
    PositiveOffset Int32 CODEC(ZSTD(1)),
    PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),
    NegativeOffset Int32 CODEC(ZSTD(1)),
    NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),
    Exemplars Nested (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_metrics_exponential_histogram ON CLUSTER '{cluster}' AS aitrail_local.otel_metrics_exponential_histogram
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_metrics_exponential_histogram', cityHash64(ResourceAttributes['aitrail.tenant.id']));

CREATE TABLE IF NOT EXISTS `aitrail_local`.otel_metrics_summary ON CLUSTER '{cluster}' (
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName String CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    ValueAtQuantiles Nested(
        Quantile Float64,
        Value Float64
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.otel_metrics_summary ON CLUSTER '{cluster}' AS aitrail_local.otel_metrics_summary
ENGINE = Distributed('{cluster}', 'aitrail_local', 'otel_metrics_summary', cityHash64(ResourceAttributes['aitrail.tenant.id']));

-- 0004_ai_generations
CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_generations ON CLUSTER '{cluster}' (
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
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, toDate(timestamp), team, assistant, timestamp)
SETTINGS index_granularity = 8192, replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_generations ON CLUSTER '{cluster}' AS aitrail_local.ai_generations
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_generations', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_generations_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_generations
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'generation'
   OR (SpanAttributes['aitrail.kind'] = ''
       AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
            OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != '')));

-- 0005_native_dialects
DROP VIEW IF EXISTS `aitrail_local`.ai_generations_mv ON CLUSTER '{cluster}';

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_generations_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_generations
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'generation'
   OR (SpanAttributes['aitrail.kind'] = ''
       AND NOT startsWith(SpanName, 'claude_code.')
       AND NOT startsWith(ScopeName, 'com.anthropic.claude_code')
       AND SpanAttributes['gen_ai.agent.name'] != 'gemini-cli'
       AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
            OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != '')));

-- 0006_daily_rollups
CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_usage_daily ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    day Date,
    team LowCardinality(String),
    assistant LowCardinality(String),
    model LowCardinality(String),
    generations SimpleAggregateFunction(sum, UInt64),
    people AggregateFunction(uniqExact, String),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Float64),
    lines_added SimpleAggregateFunction(sum, UInt64),
    accepted_lines SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, team, assistant, model)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_usage_daily ON CLUSTER '{cluster}' AS aitrail_local.ai_usage_daily
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_usage_daily', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_usage_daily_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_usage_daily
AS SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    team,
    assistant,
    model,
    count() AS generations,
    uniqExactState(user_id) AS people,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cost_usd) AS cost_usd,
    sum(toUInt64(lines_added)) AS lines_added,
    sumIf(toUInt64(g.lines_added), g.decision = 'accepted') AS accepted_lines
FROM `aitrail_local`.ai_generations AS g
GROUP BY tenant, day, team, assistant, model;

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_files_daily ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    day Date,
    repository LowCardinality(String),
    file_path String CODEC(ZSTD(1)),
    generations SimpleAggregateFunction(sum, UInt64),
    accepted_generations SimpleAggregateFunction(sum, UInt64),
    lines_added SimpleAggregateFunction(sum, UInt64),
    accepted_lines SimpleAggregateFunction(sum, UInt64),
    lines_removed SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, repository, file_path, day)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_files_daily ON CLUSTER '{cluster}' AS aitrail_local.ai_files_daily
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_files_daily', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_files_daily_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_files_daily
AS SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    repository,
    file_path,
    count() AS generations,
    countIf(decision = 'accepted') AS accepted_generations,
    sum(toUInt64(lines_added)) AS lines_added,
    sumIf(toUInt64(g.lines_added), g.decision = 'accepted') AS accepted_lines,
    sum(toUInt64(lines_removed)) AS lines_removed
FROM `aitrail_local`.ai_generations AS g
GROUP BY tenant, day, repository, file_path;

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_repositories_daily ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    day Date,
    repository LowCardinality(String),
    generations SimpleAggregateFunction(sum, UInt64),
    lines_added SimpleAggregateFunction(sum, UInt64),
    accepted_lines SimpleAggregateFunction(sum, UInt64),
    lines_removed SimpleAggregateFunction(sum, UInt64),
    files AggregateFunction(uniqExact, String),
    people AggregateFunction(uniqExact, String)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, repository)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_repositories_daily ON CLUSTER '{cluster}' AS aitrail_local.ai_repositories_daily
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_repositories_daily', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_repositories_daily_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_repositories_daily
AS SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    repository,
    count() AS generations,
    sum(toUInt64(lines_added)) AS lines_added,
    sumIf(toUInt64(g.lines_added), g.decision = 'accepted') AS accepted_lines,
    sum(toUInt64(lines_removed)) AS lines_removed,
    uniqExactState(file_path) AS files,
    uniqExactState(user_id) AS people
FROM `aitrail_local`.ai_generations AS g
GROUP BY tenant, day, repository;

INSERT INTO `aitrail_local`.ai_usage_daily (tenant, day, team, assistant, model, generations, people, input_tokens,
                                      output_tokens, cost_usd, lines_added, accepted_lines)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, assistant, model, count(), uniqExactState(user_id),
       sum(input_tokens), sum(output_tokens), sum(cost_usd), sum(toUInt64(lines_added)),
       sumIf(toUInt64(lines_added), decision = 'accepted')
FROM `aitrail_local`.ai_generations
GROUP BY tenant, day, team, assistant, model
ORDER BY tenant, day, team, assistant, model
SETTINGS insert_deduplication_token = '0006_daily_rollups.ai_usage_daily';

INSERT INTO `aitrail_local`.ai_files_daily
SELECT tenant, toDate(timestamp, 'UTC') AS day, repository, file_path, count(), countIf(decision = 'accepted'),
       sum(toUInt64(lines_added)), sumIf(toUInt64(lines_added), decision = 'accepted'), sum(toUInt64(lines_removed))
FROM `aitrail_local`.ai_generations
GROUP BY tenant, day, repository, file_path
ORDER BY tenant, repository, file_path, day
SETTINGS insert_deduplication_token = '0006_daily_rollups.ai_files_daily';

INSERT INTO `aitrail_local`.ai_repositories_daily
SELECT tenant, toDate(timestamp, 'UTC') AS day, repository, count(), sum(toUInt64(lines_added)),
       sumIf(toUInt64(lines_added), decision = 'accepted'), sum(toUInt64(lines_removed)),
       uniqExactState(file_path), uniqExactState(user_id)
FROM `aitrail_local`.ai_generations
GROUP BY tenant, day, repository
ORDER BY tenant, day, repository
SETTINGS insert_deduplication_token = '0006_daily_rollups.ai_repositories_daily';

-- 0007_rollup_accepted_and_utc_days
ALTER TABLE `aitrail_local`.ai_usage_daily ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS accepted_generations SimpleAggregateFunction(sum, UInt64) AFTER generations;

ALTER TABLE aitrail.ai_usage_daily ON CLUSTER '{cluster}'
    ADD COLUMN IF NOT EXISTS accepted_generations SimpleAggregateFunction(sum, UInt64) AFTER generations;

INSERT INTO `aitrail_local`.ai_usage_daily (tenant, day, team, assistant, model, accepted_generations)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, assistant, model, countIf(decision = 'accepted')
FROM `aitrail_local`.ai_generations
GROUP BY tenant, day, team, assistant, model
HAVING countIf(decision = 'accepted') > 0
ORDER BY tenant, day, team, assistant, model
SETTINGS insert_deduplication_token = '0007_rollup_accepted_and_utc_days.ai_usage_daily';

ALTER TABLE `aitrail_local`.ai_usage_daily_mv ON CLUSTER '{cluster}' MODIFY QUERY
SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    team,
    assistant,
    model,
    count() AS generations,
    countIf(g.decision = 'accepted') AS accepted_generations,
    uniqExactState(user_id) AS people,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cost_usd) AS cost_usd,
    sum(toUInt64(lines_added)) AS lines_added,
    sumIf(toUInt64(g.lines_added), g.decision = 'accepted') AS accepted_lines
FROM `aitrail_local`.ai_generations AS g
GROUP BY tenant, day, team, assistant, model;

ALTER TABLE `aitrail_local`.ai_files_daily_mv ON CLUSTER '{cluster}' MODIFY QUERY
SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    repository,
    file_path,
    count() AS generations,
    countIf(decision = 'accepted') AS accepted_generations,
    sum(toUInt64(lines_added)) AS lines_added,
    sumIf(toUInt64(g.lines_added), g.decision = 'accepted') AS accepted_lines,
    sum(toUInt64(lines_removed)) AS lines_removed
FROM `aitrail_local`.ai_generations AS g
GROUP BY tenant, day, repository, file_path;

ALTER TABLE `aitrail_local`.ai_repositories_daily_mv ON CLUSTER '{cluster}' MODIFY QUERY
SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    repository,
    count() AS generations,
    sum(toUInt64(lines_added)) AS lines_added,
    sumIf(toUInt64(g.lines_added), g.decision = 'accepted') AS accepted_lines,
    sum(toUInt64(lines_removed)) AS lines_removed,
    uniqExactState(file_path) AS files,
    uniqExactState(user_id) AS people
FROM `aitrail_local`.ai_generations AS g
GROUP BY tenant, day, repository;

-- 0008_commits_findings_incidents
CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_commits ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    repository LowCardinality(String),
    commit String CODEC(ZSTD(1)),
    parents Array(String) CODEC(ZSTD(1)),
    branch LowCardinality(String),
    author_email String CODEC(ZSTD(1)),
    author_name String CODEC(ZSTD(1)),
    user_id String CODEC(ZSTD(1)),
    committer_email String CODEC(ZSTD(1)),
    team LowCardinality(String),
    lines_added UInt32,
    ai_lines UInt32,
    generation_ids Array(String) CODEC(ZSTD(1)),
    assistants Array(LowCardinality(String)),
    trailers Array(String) CODEC(ZSTD(1)),
    files String CODEC(ZSTD(3)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    recorded_at DateTime64(9)
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', recorded_at)
ORDER BY (tenant, repository, commit)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_commits ON CLUSTER '{cluster}' AS aitrail_local.ai_commits
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_commits', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_commits_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_commits
AS WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'commit';

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_commit_files ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    repository LowCardinality(String),
    commit String CODEC(ZSTD(1)),
    file_path String CODEC(ZSTD(1)),
    lines_added UInt32,
    ai_lines UInt32,
    team LowCardinality(String),
    author_email String CODEC(ZSTD(1)),
    recorded_at DateTime64(9)
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', recorded_at)
ORDER BY (tenant, repository, commit, file_path)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_commit_files ON CLUSTER '{cluster}' AS aitrail_local.ai_commit_files
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_commit_files', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_commit_files_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_commit_files
AS SELECT
    tenant, timestamp, repository, commit,
    f.1 AS file_path,
    f.2 AS lines_added,
    f.3 AS ai_lines,
    team, author_email, recorded_at
FROM `aitrail_local`.ai_commits
ARRAY JOIN JSONExtract(files, 'Array(Tuple(path String, added UInt32, ai UInt32))') AS f;

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_line_origins ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    fingerprint UInt64,
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    repository LowCardinality(String),
    file_path String CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    assistant LowCardinality(String),
    model LowCardinality(String),
    user_email LowCardinality(String),
    team LowCardinality(String)
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (tenant, fingerprint, timestamp)
SETTINGS index_granularity = 256, min_compress_block_size = 4096, max_compress_block_size = 16384,
    replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_line_origins ON CLUSTER '{cluster}' AS aitrail_local.ai_line_origins
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_line_origins', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_line_origins_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_line_origins
AS SELECT tenant, fingerprint, timestamp, repository, file_path, trace_id, span_id, assistant, model, user_email, team
FROM `aitrail_local`.ai_generations
ARRAY JOIN line_fingerprints AS fingerprint;

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_findings ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    finding_id String,
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    source LowCardinality(String),
    rule String CODEC(ZSTD(1)),
    cwe Array(LowCardinality(String)),
    severity LowCardinality(String),
    message String CODEC(ZSTD(3)),
    repository LowCardinality(String),
    commit String CODEC(ZSTD(1)),
    file_path String CODEC(ZSTD(1)),
    line_start UInt32,
    line_end UInt32,
    line_fingerprints Array(UInt64) CODEC(ZSTD(1)),
    line_text String CODEC(ZSTD(3)),
    resolved UInt8,
    caught_at LowCardinality(String),
    generation_trace_id String CODEC(ZSTD(1)),
    generation_span_id String CODEC(ZSTD(1)),
    status LowCardinality(String),
    team LowCardinality(String),
    introduced_commit String CODEC(ZSTD(1)),
    introduced_at DateTime('UTC'),
    introduced_author String CODEC(ZSTD(1)),
    recorded_at DateTime64(9)
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', recorded_at)
ORDER BY (tenant, finding_id)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_findings ON CLUSTER '{cluster}' AS aitrail_local.ai_findings
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_findings', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_findings_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_findings
AS WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'finding';

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_incidents ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    incident_id String,
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    title String CODEC(ZSTD(3)),
    severity LowCardinality(String),
    status LowCardinality(String),
    cost_usd Float64,
    locations String CODEC(ZSTD(3)),
    commits Array(String) CODEC(ZSTD(1)),
    finding_ids Array(String) CODEC(ZSTD(1)),
    repository LowCardinality(String),
    team LowCardinality(String),
    recorded_at DateTime64(9)
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', recorded_at)
ORDER BY (tenant, incident_id)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_incidents ON CLUSTER '{cluster}' AS aitrail_local.ai_incidents
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_incidents', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_incidents_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_incidents
AS WITH mapUpdate(ResourceAttributes, SpanAttributes) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'incident';

INSERT INTO `aitrail_local`.ai_line_origins (tenant, fingerprint, timestamp, repository, file_path, trace_id, span_id,
                                        assistant, model, user_email, team)
SELECT tenant, fingerprint, timestamp, repository, file_path, trace_id, span_id, assistant, model, user_email, team
FROM `aitrail_local`.ai_generations
ARRAY JOIN line_fingerprints AS fingerprint
ORDER BY tenant, fingerprint, timestamp
SETTINGS insert_deduplication_token = '0008_commits_findings_incidents.ai_line_origins';

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_commits_daily ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    day Date,
    repository LowCardinality(String),
    team LowCardinality(String),
    author_email String,
    commits AggregateFunction(uniqExact, String),
    lines_added SimpleAggregateFunction(sum, UInt64),
    ai_lines SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
ORDER BY (tenant, day, repository, team, author_email);

CREATE TABLE IF NOT EXISTS aitrail.ai_commits_daily ON CLUSTER '{cluster}' AS aitrail_local.ai_commits_daily
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_commits_daily', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_commits_daily_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_commits_daily
AS SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    repository,
    team,
    author_email,
    uniqExactState(commit) AS commits,
    sum(toUInt64(lines_added)) AS lines_added,
    sum(toUInt64(ai_lines)) AS ai_lines
FROM `aitrail_local`.ai_commits
GROUP BY tenant, day, repository, team, author_email;

-- 0009_signoffs
CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_signoffs ON CLUSTER '{cluster}' (
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', recorded_at)
ORDER BY (tenant, signoff_id)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_signoffs ON CLUSTER '{cluster}' AS aitrail_local.ai_signoffs
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_signoffs', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_signoffs_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_signoffs
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'signoff';

CREATE TABLE IF NOT EXISTS aitrail.ai_prices ON CLUSTER '{cluster}' (
    model String,
    provider LowCardinality(String),
    input_usd_per_mtok Float64,
    output_usd_per_mtok Float64,
    cache_read_usd_per_mtok Float64,
    cache_write_usd_per_mtok Float64,
    taken_on Date,
    source String,
    updated_at DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}', updated_at)
ORDER BY model;

CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_cost_estimates ON CLUSTER '{cluster}' (
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
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', recorded_at)
ORDER BY (tenant, span_id)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_cost_estimates ON CLUSTER '{cluster}' AS aitrail_local.ai_cost_estimates
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_cost_estimates', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_cost_estimates_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_cost_estimates
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
                         '(-latest|-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8})$', '') AS price_key,
        toUInt64OrZero(a['gen_ai.usage.input_tokens']) AS input_tokens,
        toUInt64OrZero(a['gen_ai.usage.output_tokens']) AS output_tokens,
        toUInt64OrZero(a['gen_ai.usage.cache_read.input_tokens']) AS cache_read_tokens,
        toUInt64OrZero(a['gen_ai.usage.cache_creation.input_tokens']) AS cache_write_tokens
    FROM `aitrail_local`.otel_traces
    WHERE toFloat64OrZero(mapUpdate(ResourceAttributes, SpanAttributes)['aitrail.cost.usd']) = 0
      AND (SpanAttributes['aitrail.kind'] = 'generation'
           OR (SpanAttributes['aitrail.kind'] = ''
               AND NOT startsWith(SpanName, 'claude_code.')
               AND NOT startsWith(ScopeName, 'com.anthropic.claude_code')
               AND SpanAttributes['gen_ai.agent.name'] != 'gemini-cli'
               AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
                    OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != ''))))
) AS s
INNER JOIN (SELECT * FROM aitrail.ai_prices FINAL) AS p ON p.model = s.price_key
WHERE s.input_tokens + s.output_tokens > 0;

-- 0011_people_daily
CREATE TABLE IF NOT EXISTS `aitrail_local`.ai_people_daily ON CLUSTER '{cluster}' (
    tenant LowCardinality(String),
    day Date,
    team LowCardinality(String),
    person String CODEC(ZSTD(1)),
    repository LowCardinality(String),
    assistant LowCardinality(String),
    model LowCardinality(String),
    generations SimpleAggregateFunction(sum, UInt64),
    accepted_generations SimpleAggregateFunction(sum, UInt64),
    input_tokens SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    cost_usd SimpleAggregateFunction(sum, Float64),
    estimated_cost_usd SimpleAggregateFunction(sum, Float64),
    lines_added SimpleAggregateFunction(sum, UInt64),
    accepted_lines SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, team, person, repository, assistant, model)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS aitrail.ai_people_daily ON CLUSTER '{cluster}' AS aitrail_local.ai_people_daily
ENGINE = Distributed('{cluster}', 'aitrail_local', 'ai_people_daily', cityHash64(tenant));

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_people_daily_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_people_daily
AS SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    team,
    if(user_email != '', user_email, user_id) AS person,
    repository,
    assistant,
    model,
    count() AS generations,
    countIf(g.decision = 'accepted') AS accepted_generations,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cost_usd) AS cost_usd,
    toFloat64(0) AS estimated_cost_usd,
    sum(toUInt64(lines_added)) AS lines_added,
    sumIf(toUInt64(g.lines_added), g.decision = 'accepted') AS accepted_lines
FROM `aitrail_local`.ai_generations AS g
GROUP BY tenant, day, team, person, repository, assistant, model;

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_people_daily_estimates_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_people_daily
AS SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    team,
    user_email AS person,
    repository,
    '' AS assistant,
    model,
    sum(estimated_cost_usd) AS estimated_cost_usd
FROM `aitrail_local`.ai_cost_estimates
GROUP BY tenant, day, team, person, repository, model;

INSERT INTO `aitrail_local`.ai_people_daily (tenant, day, team, person, repository, assistant, model, generations,
                                         accepted_generations, input_tokens, output_tokens, cost_usd, lines_added,
                                         accepted_lines)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, if(user_email != '', user_email, user_id) AS person, repository,
       assistant, model, count(), countIf(decision = 'accepted'), sum(input_tokens), sum(output_tokens), sum(cost_usd),
       sum(toUInt64(lines_added)), sumIf(toUInt64(lines_added), decision = 'accepted')
FROM `aitrail_local`.ai_generations
GROUP BY tenant, day, team, person, repository, assistant, model
ORDER BY tenant, day, team, person, repository, assistant, model
SETTINGS insert_deduplication_token = '0011_people_daily.ai_generations';

INSERT INTO `aitrail_local`.ai_people_daily (tenant, day, team, person, repository, assistant, model, estimated_cost_usd)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, user_email AS person, repository, '' AS assistant, model,
       sum(estimated_cost_usd)
FROM (SELECT tenant, span_id, any(timestamp) AS timestamp, any(team) AS team, any(user_email) AS user_email,
             any(repository) AS repository, any(model) AS model, any(estimated_cost_usd) AS estimated_cost_usd
      FROM `aitrail_local`.ai_cost_estimates GROUP BY tenant, span_id)
GROUP BY tenant, day, team, person, repository, model
ORDER BY tenant, day, team, person, repository, model
SETTINGS insert_deduplication_token = '0011_people_daily.ai_cost_estimates';

-- 0012_aliases_in_views
DROP VIEW IF EXISTS `aitrail_local`.ai_generations_mv ON CLUSTER '{cluster}';

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_generations_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_generations
AS WITH mapUpdate(mapUpdate(ResourceAttributes, SpanAttributes), CAST(mapFilter((k, x) -> isNotNull(x), map('gen_ai.provider.name', multiIf(mapContains(SpanAttributes, 'gen_ai.provider.name'), SpanAttributes['gen_ai.provider.name'], mapContains(SpanAttributes, 'gen_ai.system'), SpanAttributes['gen_ai.system'], mapContains(ResourceAttributes, 'gen_ai.provider.name'), ResourceAttributes['gen_ai.provider.name'], mapContains(ResourceAttributes, 'gen_ai.system'), ResourceAttributes['gen_ai.system'], NULL), 'gen_ai.usage.input_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.input_tokens'), SpanAttributes['gen_ai.usage.input_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.prompt_tokens'), SpanAttributes['gen_ai.usage.prompt_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.input_tokens'), ResourceAttributes['gen_ai.usage.input_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.prompt_tokens'), ResourceAttributes['gen_ai.usage.prompt_tokens'], NULL), 'gen_ai.usage.output_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.output_tokens'), SpanAttributes['gen_ai.usage.output_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.completion_tokens'), SpanAttributes['gen_ai.usage.completion_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.output_tokens'), ResourceAttributes['gen_ai.usage.output_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.completion_tokens'), ResourceAttributes['gen_ai.usage.completion_tokens'], NULL), 'session.id', multiIf(mapContains(SpanAttributes, 'session.id'), SpanAttributes['session.id'], mapContains(SpanAttributes, 'gen_ai.conversation.id'), SpanAttributes['gen_ai.conversation.id'], mapContains(ResourceAttributes, 'session.id'), ResourceAttributes['session.id'], mapContains(ResourceAttributes, 'gen_ai.conversation.id'), ResourceAttributes['gen_ai.conversation.id'], NULL), 'aitrail.team', multiIf(mapContains(SpanAttributes, 'aitrail.team'), SpanAttributes['aitrail.team'], mapContains(SpanAttributes, 'team'), SpanAttributes['team'], mapContains(SpanAttributes, 'team.name'), SpanAttributes['team.name'], mapContains(ResourceAttributes, 'aitrail.team'), ResourceAttributes['aitrail.team'], mapContains(ResourceAttributes, 'team'), ResourceAttributes['team'], mapContains(ResourceAttributes, 'team.name'), ResourceAttributes['team.name'], NULL))), 'Map(LowCardinality(String), String)')) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'generation'
   OR (SpanAttributes['aitrail.kind'] = ''
       AND NOT startsWith(SpanName, 'claude_code.')
       AND NOT startsWith(ScopeName, 'com.anthropic.claude_code')
       AND SpanAttributes['gen_ai.agent.name'] != 'gemini-cli'
       AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
            OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != '')));

DROP VIEW IF EXISTS `aitrail_local`.ai_commits_mv ON CLUSTER '{cluster}';

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_commits_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_commits
AS WITH mapUpdate(mapUpdate(ResourceAttributes, SpanAttributes), CAST(mapFilter((k, x) -> isNotNull(x), map('gen_ai.provider.name', multiIf(mapContains(SpanAttributes, 'gen_ai.provider.name'), SpanAttributes['gen_ai.provider.name'], mapContains(SpanAttributes, 'gen_ai.system'), SpanAttributes['gen_ai.system'], mapContains(ResourceAttributes, 'gen_ai.provider.name'), ResourceAttributes['gen_ai.provider.name'], mapContains(ResourceAttributes, 'gen_ai.system'), ResourceAttributes['gen_ai.system'], NULL), 'gen_ai.usage.input_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.input_tokens'), SpanAttributes['gen_ai.usage.input_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.prompt_tokens'), SpanAttributes['gen_ai.usage.prompt_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.input_tokens'), ResourceAttributes['gen_ai.usage.input_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.prompt_tokens'), ResourceAttributes['gen_ai.usage.prompt_tokens'], NULL), 'gen_ai.usage.output_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.output_tokens'), SpanAttributes['gen_ai.usage.output_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.completion_tokens'), SpanAttributes['gen_ai.usage.completion_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.output_tokens'), ResourceAttributes['gen_ai.usage.output_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.completion_tokens'), ResourceAttributes['gen_ai.usage.completion_tokens'], NULL), 'session.id', multiIf(mapContains(SpanAttributes, 'session.id'), SpanAttributes['session.id'], mapContains(SpanAttributes, 'gen_ai.conversation.id'), SpanAttributes['gen_ai.conversation.id'], mapContains(ResourceAttributes, 'session.id'), ResourceAttributes['session.id'], mapContains(ResourceAttributes, 'gen_ai.conversation.id'), ResourceAttributes['gen_ai.conversation.id'], NULL), 'aitrail.team', multiIf(mapContains(SpanAttributes, 'aitrail.team'), SpanAttributes['aitrail.team'], mapContains(SpanAttributes, 'team'), SpanAttributes['team'], mapContains(SpanAttributes, 'team.name'), SpanAttributes['team.name'], mapContains(ResourceAttributes, 'aitrail.team'), ResourceAttributes['aitrail.team'], mapContains(ResourceAttributes, 'team'), ResourceAttributes['team'], mapContains(ResourceAttributes, 'team.name'), ResourceAttributes['team.name'], NULL))), 'Map(LowCardinality(String), String)')) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'commit';

DROP VIEW IF EXISTS `aitrail_local`.ai_findings_mv ON CLUSTER '{cluster}';

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_findings_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_findings
AS WITH mapUpdate(mapUpdate(ResourceAttributes, SpanAttributes), CAST(mapFilter((k, x) -> isNotNull(x), map('gen_ai.provider.name', multiIf(mapContains(SpanAttributes, 'gen_ai.provider.name'), SpanAttributes['gen_ai.provider.name'], mapContains(SpanAttributes, 'gen_ai.system'), SpanAttributes['gen_ai.system'], mapContains(ResourceAttributes, 'gen_ai.provider.name'), ResourceAttributes['gen_ai.provider.name'], mapContains(ResourceAttributes, 'gen_ai.system'), ResourceAttributes['gen_ai.system'], NULL), 'gen_ai.usage.input_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.input_tokens'), SpanAttributes['gen_ai.usage.input_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.prompt_tokens'), SpanAttributes['gen_ai.usage.prompt_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.input_tokens'), ResourceAttributes['gen_ai.usage.input_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.prompt_tokens'), ResourceAttributes['gen_ai.usage.prompt_tokens'], NULL), 'gen_ai.usage.output_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.output_tokens'), SpanAttributes['gen_ai.usage.output_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.completion_tokens'), SpanAttributes['gen_ai.usage.completion_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.output_tokens'), ResourceAttributes['gen_ai.usage.output_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.completion_tokens'), ResourceAttributes['gen_ai.usage.completion_tokens'], NULL), 'session.id', multiIf(mapContains(SpanAttributes, 'session.id'), SpanAttributes['session.id'], mapContains(SpanAttributes, 'gen_ai.conversation.id'), SpanAttributes['gen_ai.conversation.id'], mapContains(ResourceAttributes, 'session.id'), ResourceAttributes['session.id'], mapContains(ResourceAttributes, 'gen_ai.conversation.id'), ResourceAttributes['gen_ai.conversation.id'], NULL), 'aitrail.team', multiIf(mapContains(SpanAttributes, 'aitrail.team'), SpanAttributes['aitrail.team'], mapContains(SpanAttributes, 'team'), SpanAttributes['team'], mapContains(SpanAttributes, 'team.name'), SpanAttributes['team.name'], mapContains(ResourceAttributes, 'aitrail.team'), ResourceAttributes['aitrail.team'], mapContains(ResourceAttributes, 'team'), ResourceAttributes['team'], mapContains(ResourceAttributes, 'team.name'), ResourceAttributes['team.name'], NULL))), 'Map(LowCardinality(String), String)')) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'finding';

DROP VIEW IF EXISTS `aitrail_local`.ai_incidents_mv ON CLUSTER '{cluster}';

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_incidents_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_incidents
AS WITH mapUpdate(mapUpdate(ResourceAttributes, SpanAttributes), CAST(mapFilter((k, x) -> isNotNull(x), map('gen_ai.provider.name', multiIf(mapContains(SpanAttributes, 'gen_ai.provider.name'), SpanAttributes['gen_ai.provider.name'], mapContains(SpanAttributes, 'gen_ai.system'), SpanAttributes['gen_ai.system'], mapContains(ResourceAttributes, 'gen_ai.provider.name'), ResourceAttributes['gen_ai.provider.name'], mapContains(ResourceAttributes, 'gen_ai.system'), ResourceAttributes['gen_ai.system'], NULL), 'gen_ai.usage.input_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.input_tokens'), SpanAttributes['gen_ai.usage.input_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.prompt_tokens'), SpanAttributes['gen_ai.usage.prompt_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.input_tokens'), ResourceAttributes['gen_ai.usage.input_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.prompt_tokens'), ResourceAttributes['gen_ai.usage.prompt_tokens'], NULL), 'gen_ai.usage.output_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.output_tokens'), SpanAttributes['gen_ai.usage.output_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.completion_tokens'), SpanAttributes['gen_ai.usage.completion_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.output_tokens'), ResourceAttributes['gen_ai.usage.output_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.completion_tokens'), ResourceAttributes['gen_ai.usage.completion_tokens'], NULL), 'session.id', multiIf(mapContains(SpanAttributes, 'session.id'), SpanAttributes['session.id'], mapContains(SpanAttributes, 'gen_ai.conversation.id'), SpanAttributes['gen_ai.conversation.id'], mapContains(ResourceAttributes, 'session.id'), ResourceAttributes['session.id'], mapContains(ResourceAttributes, 'gen_ai.conversation.id'), ResourceAttributes['gen_ai.conversation.id'], NULL), 'aitrail.team', multiIf(mapContains(SpanAttributes, 'aitrail.team'), SpanAttributes['aitrail.team'], mapContains(SpanAttributes, 'team'), SpanAttributes['team'], mapContains(SpanAttributes, 'team.name'), SpanAttributes['team.name'], mapContains(ResourceAttributes, 'aitrail.team'), ResourceAttributes['aitrail.team'], mapContains(ResourceAttributes, 'team'), ResourceAttributes['team'], mapContains(ResourceAttributes, 'team.name'), ResourceAttributes['team.name'], NULL))), 'Map(LowCardinality(String), String)')) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'incident';

DROP VIEW IF EXISTS `aitrail_local`.ai_signoffs_mv ON CLUSTER '{cluster}';

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_signoffs_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_signoffs
AS WITH mapUpdate(mapUpdate(ResourceAttributes, SpanAttributes), CAST(mapFilter((k, x) -> isNotNull(x), map('gen_ai.provider.name', multiIf(mapContains(SpanAttributes, 'gen_ai.provider.name'), SpanAttributes['gen_ai.provider.name'], mapContains(SpanAttributes, 'gen_ai.system'), SpanAttributes['gen_ai.system'], mapContains(ResourceAttributes, 'gen_ai.provider.name'), ResourceAttributes['gen_ai.provider.name'], mapContains(ResourceAttributes, 'gen_ai.system'), ResourceAttributes['gen_ai.system'], NULL), 'gen_ai.usage.input_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.input_tokens'), SpanAttributes['gen_ai.usage.input_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.prompt_tokens'), SpanAttributes['gen_ai.usage.prompt_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.input_tokens'), ResourceAttributes['gen_ai.usage.input_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.prompt_tokens'), ResourceAttributes['gen_ai.usage.prompt_tokens'], NULL), 'gen_ai.usage.output_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.output_tokens'), SpanAttributes['gen_ai.usage.output_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.completion_tokens'), SpanAttributes['gen_ai.usage.completion_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.output_tokens'), ResourceAttributes['gen_ai.usage.output_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.completion_tokens'), ResourceAttributes['gen_ai.usage.completion_tokens'], NULL), 'session.id', multiIf(mapContains(SpanAttributes, 'session.id'), SpanAttributes['session.id'], mapContains(SpanAttributes, 'gen_ai.conversation.id'), SpanAttributes['gen_ai.conversation.id'], mapContains(ResourceAttributes, 'session.id'), ResourceAttributes['session.id'], mapContains(ResourceAttributes, 'gen_ai.conversation.id'), ResourceAttributes['gen_ai.conversation.id'], NULL), 'aitrail.team', multiIf(mapContains(SpanAttributes, 'aitrail.team'), SpanAttributes['aitrail.team'], mapContains(SpanAttributes, 'team'), SpanAttributes['team'], mapContains(SpanAttributes, 'team.name'), SpanAttributes['team.name'], mapContains(ResourceAttributes, 'aitrail.team'), ResourceAttributes['aitrail.team'], mapContains(ResourceAttributes, 'team'), ResourceAttributes['team'], mapContains(ResourceAttributes, 'team.name'), ResourceAttributes['team.name'], NULL))), 'Map(LowCardinality(String), String)')) AS a
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
FROM `aitrail_local`.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'signoff';

DROP VIEW IF EXISTS `aitrail_local`.ai_cost_estimates_mv ON CLUSTER '{cluster}';

CREATE MATERIALIZED VIEW IF NOT EXISTS `aitrail_local`.ai_cost_estimates_mv ON CLUSTER '{cluster}'
TO `aitrail_local`.ai_cost_estimates
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
    WITH mapUpdate(mapUpdate(ResourceAttributes, SpanAttributes), CAST(mapFilter((k, x) -> isNotNull(x), map('gen_ai.provider.name', multiIf(mapContains(SpanAttributes, 'gen_ai.provider.name'), SpanAttributes['gen_ai.provider.name'], mapContains(SpanAttributes, 'gen_ai.system'), SpanAttributes['gen_ai.system'], mapContains(ResourceAttributes, 'gen_ai.provider.name'), ResourceAttributes['gen_ai.provider.name'], mapContains(ResourceAttributes, 'gen_ai.system'), ResourceAttributes['gen_ai.system'], NULL), 'gen_ai.usage.input_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.input_tokens'), SpanAttributes['gen_ai.usage.input_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.prompt_tokens'), SpanAttributes['gen_ai.usage.prompt_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.input_tokens'), ResourceAttributes['gen_ai.usage.input_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.prompt_tokens'), ResourceAttributes['gen_ai.usage.prompt_tokens'], NULL), 'gen_ai.usage.output_tokens', multiIf(mapContains(SpanAttributes, 'gen_ai.usage.output_tokens'), SpanAttributes['gen_ai.usage.output_tokens'], mapContains(SpanAttributes, 'gen_ai.usage.completion_tokens'), SpanAttributes['gen_ai.usage.completion_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.output_tokens'), ResourceAttributes['gen_ai.usage.output_tokens'], mapContains(ResourceAttributes, 'gen_ai.usage.completion_tokens'), ResourceAttributes['gen_ai.usage.completion_tokens'], NULL), 'session.id', multiIf(mapContains(SpanAttributes, 'session.id'), SpanAttributes['session.id'], mapContains(SpanAttributes, 'gen_ai.conversation.id'), SpanAttributes['gen_ai.conversation.id'], mapContains(ResourceAttributes, 'session.id'), ResourceAttributes['session.id'], mapContains(ResourceAttributes, 'gen_ai.conversation.id'), ResourceAttributes['gen_ai.conversation.id'], NULL), 'aitrail.team', multiIf(mapContains(SpanAttributes, 'aitrail.team'), SpanAttributes['aitrail.team'], mapContains(SpanAttributes, 'team'), SpanAttributes['team'], mapContains(SpanAttributes, 'team.name'), SpanAttributes['team.name'], mapContains(ResourceAttributes, 'aitrail.team'), ResourceAttributes['aitrail.team'], mapContains(ResourceAttributes, 'team'), ResourceAttributes['team'], mapContains(ResourceAttributes, 'team.name'), ResourceAttributes['team.name'], NULL))), 'Map(LowCardinality(String), String)')) AS a
    SELECT
        ResourceAttributes['aitrail.tenant.id'] AS tenant, Timestamp AS timestamp, TraceId AS trace_id,
        SpanId AS span_id, a['aitrail.team'] AS team, a['user.email'] AS user_email,
        a['vcs.repository.url.full'] AS repository,
        if(a['gen_ai.response.model'] != '', a['gen_ai.response.model'], a['gen_ai.request.model']) AS model,
        replaceRegexpOne(replaceRegexpOne(lower(model), '^.*/', ''),
                         '(-latest|-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8})$', '') AS price_key,
        toUInt64OrZero(a['gen_ai.usage.input_tokens']) AS input_tokens,
        toUInt64OrZero(a['gen_ai.usage.output_tokens']) AS output_tokens,
        toUInt64OrZero(a['gen_ai.usage.cache_read.input_tokens']) AS cache_read_tokens,
        toUInt64OrZero(a['gen_ai.usage.cache_creation.input_tokens']) AS cache_write_tokens
    FROM `aitrail_local`.otel_traces
    WHERE toFloat64OrZero(mapUpdate(ResourceAttributes, SpanAttributes)['aitrail.cost.usd']) = 0
      AND (SpanAttributes['aitrail.kind'] = 'generation'
           OR (SpanAttributes['aitrail.kind'] = ''
               AND NOT startsWith(SpanName, 'claude_code.')
               AND NOT startsWith(ScopeName, 'com.anthropic.claude_code')
               AND SpanAttributes['gen_ai.agent.name'] != 'gemini-cli'
               AND (SpanAttributes['gen_ai.operation.name'] IN ('chat', 'text_completion', 'generate_content')
                    OR (SpanAttributes['gen_ai.operation.name'] = '' AND SpanAttributes['gen_ai.request.model'] != ''))))
) AS s
INNER JOIN (SELECT * FROM aitrail.ai_prices FINAL) AS p ON p.model = s.price_key
WHERE s.input_tokens + s.output_tokens > 0;

-- 0013_line_origins_lz4
ALTER TABLE `aitrail_local`.ai_line_origins ON CLUSTER '{cluster}'
    MODIFY COLUMN timestamp DateTime64(9) CODEC(LZ4),
    MODIFY COLUMN file_path String CODEC(LZ4);

ALTER TABLE aitrail.ai_line_origins ON CLUSTER '{cluster}'
    MODIFY COLUMN timestamp DateTime64(9) CODEC(LZ4),
    MODIFY COLUMN file_path String CODEC(LZ4);

-- Record the migrations as applied, so collectors started on the cluster apply nothing themselves.
INSERT INTO aitrail.schema_migrations (version, name, checksum)
SELECT * FROM (SELECT * FROM values('version UInt32, name String, checksum String',
    (1, 'otel_traces', 'd1beafa482f55b9a'),
    (2, 'otel_logs', 'c15dfea08e41bb50'),
    (3, 'otel_metrics', '47e7dd2e9314c472'),
    (4, 'ai_generations', '49f3c1988867ef21'),
    (5, 'native_dialects', '0703b5e4b25367e0'),
    (6, 'daily_rollups', '538a9e07b8483056'),
    (7, 'rollup_accepted_and_utc_days', '6ce7feddf8465a92'),
    (8, 'commits_findings_incidents', '2574f6547ee8856b'),
    (9, 'signoffs', 'd97512f147e44f0e'),
    (11, 'people_daily', 'ae3ad829199d10ef'),
    (12, 'aliases_in_views', '1e987d8114705446'),
    (13, 'line_origins_lz4', '98e1ec58b2d661b7')))
WHERE version NOT IN (SELECT version FROM aitrail.schema_migrations);
