-- Daily rollups of ai_generations: the questions a team lead asks (usage per team per day, the files
-- AI wrote most into, AI lines per repository) read a few thousand pre-aggregated rows instead of
-- every generation, so they stay fast at tens of millions of generations (bench/queries.py).
--
-- Each is an AggregatingMergeTree fed by a materialized view on ai_generations, so every way rows
-- reach ai_generations (the view on otel_traces, the derivation of native telemetry) feeds them
-- too, in the same insert. Rows of one key are combined when parts merge: always read them with
-- sum() / uniqExactMerge() and GROUP BY, never as stored. Counts, tokens, lines and cost are plain
-- sums (SimpleAggregateFunction); people and files are exact distinct sets (uniqExact states),
-- small per day and key. A day is a UTC day. Finer ranges than whole days: ask ai_generations.
-- ai_files_daily has a row per file and day (many), so it is sorted by file: a file's days sit
-- together on disk. Ask it with a plain GROUP BY; aggregating in key order (optimize_aggregation_in_order)
-- measured twice as slow over parts not yet merged (bench/queries.py).
--
-- Rows that reached ai_generations before this migration are copied in once by the INSERT ... SELECT
-- statements at the end; their deduplication tokens make running them again a no-op (the rows come
-- in a fixed order, so the blocks, and their partitions, are the same each time). As with 0005,
-- another writer of the tables (an OpenTelemetry Collector into a ClickHouse server) should be
-- paused while this runs, or what it writes in between is counted twice.

CREATE TABLE IF NOT EXISTS ${database}.ai_usage_daily (
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
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, team, assistant, model)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_usage_daily_mv
TO ${database}.ai_usage_daily
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
FROM ${database}.ai_generations AS g
GROUP BY tenant, day, team, assistant, model;

CREATE TABLE IF NOT EXISTS ${database}.ai_files_daily (
    tenant LowCardinality(String),
    day Date,
    repository LowCardinality(String),
    file_path String CODEC(ZSTD(1)),
    generations SimpleAggregateFunction(sum, UInt64),
    accepted_generations SimpleAggregateFunction(sum, UInt64),
    lines_added SimpleAggregateFunction(sum, UInt64),
    accepted_lines SimpleAggregateFunction(sum, UInt64),
    lines_removed SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, repository, file_path, day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_files_daily_mv
TO ${database}.ai_files_daily
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
FROM ${database}.ai_generations AS g
GROUP BY tenant, day, repository, file_path;

CREATE TABLE IF NOT EXISTS ${database}.ai_repositories_daily (
    tenant LowCardinality(String),
    day Date,
    repository LowCardinality(String),
    generations SimpleAggregateFunction(sum, UInt64),
    lines_added SimpleAggregateFunction(sum, UInt64),
    accepted_lines SimpleAggregateFunction(sum, UInt64),
    lines_removed SimpleAggregateFunction(sum, UInt64),
    files AggregateFunction(uniqExact, String),
    people AggregateFunction(uniqExact, String)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, repository)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_repositories_daily_mv
TO ${database}.ai_repositories_daily
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
FROM ${database}.ai_generations AS g
GROUP BY tenant, day, repository;

INSERT INTO ${database}.ai_usage_daily (tenant, day, team, assistant, model, generations, people, input_tokens,
                                      output_tokens, cost_usd, lines_added, accepted_lines)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, assistant, model, count(), uniqExactState(user_id),
       sum(input_tokens), sum(output_tokens), sum(cost_usd), sum(toUInt64(lines_added)),
       sumIf(toUInt64(lines_added), decision = 'accepted')
FROM ${database}.ai_generations
GROUP BY tenant, day, team, assistant, model
ORDER BY tenant, day, team, assistant, model
SETTINGS insert_deduplication_token = '0006_daily_rollups.ai_usage_daily';

INSERT INTO ${database}.ai_files_daily
SELECT tenant, toDate(timestamp, 'UTC') AS day, repository, file_path, count(), countIf(decision = 'accepted'),
       sum(toUInt64(lines_added)), sumIf(toUInt64(lines_added), decision = 'accepted'), sum(toUInt64(lines_removed))
FROM ${database}.ai_generations
GROUP BY tenant, day, repository, file_path
ORDER BY tenant, repository, file_path, day
SETTINGS insert_deduplication_token = '0006_daily_rollups.ai_files_daily';

INSERT INTO ${database}.ai_repositories_daily
SELECT tenant, toDate(timestamp, 'UTC') AS day, repository, count(), sum(toUInt64(lines_added)),
       sumIf(toUInt64(lines_added), decision = 'accepted'), sum(toUInt64(lines_removed)),
       uniqExactState(file_path), uniqExactState(user_id)
FROM ${database}.ai_generations
GROUP BY tenant, day, repository
ORDER BY tenant, day, repository
SETTINGS insert_deduplication_token = '0006_daily_rollups.ai_repositories_daily';
