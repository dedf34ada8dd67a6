-- A daily rollup per person: the questions asked per person or per repository with tokens and cost (the usage
-- panels "AI usage by team, person or repository" and "Tokens and cost per person", `aitrail report --by person`)
-- read a few rows per person and day instead of every generation, so they stay fast at tens of millions of
-- generations (bench/queries.py). It also holds the cost estimated from tokens by the price table
-- (ai_cost_estimates, migration 0009), so every cost panel can say how much of its cost is estimated.
--
-- Like the rollups of 0006, an AggregatingMergeTree: read it with sum() and GROUP BY, never as stored. Two views
-- feed it, each in the insert that fills its source: one from ai_generations (counts, tokens, the cost the sender
-- reported, lines), one from ai_cost_estimates (the estimated cost alone, in rows whose counts are 0). The person is
-- the e-mail address, else the user id (what the reports call a person); an estimate knows only the e-mail, and
-- no assistant: its rows carry assistant '' (the estimate is not known per assistant).
-- A day is a UTC day. ai_generations_mv and ai_cost_estimates_mv are left as they are (see 0009).
--
-- Rows that reached the sources before this migration are copied in once by the INSERT ... SELECT statements at the
-- end; their deduplication tokens make running them again a no-op. As with 0006, another writer of the tables (an
-- OpenTelemetry Collector into a ClickHouse server) should be paused while this runs.

CREATE TABLE IF NOT EXISTS ${database}.ai_people_daily (
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
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, team, person, repository, assistant, model)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_people_daily_mv
TO ${database}.ai_people_daily
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
FROM ${database}.ai_generations AS g
GROUP BY tenant, day, team, person, repository, assistant, model;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_people_daily_estimates_mv
TO ${database}.ai_people_daily
AS SELECT
    tenant,
    toDate(timestamp, 'UTC') AS day,
    team,
    user_email AS person,
    repository,
    '' AS assistant,
    model,
    sum(estimated_cost_usd) AS estimated_cost_usd
FROM ${database}.ai_cost_estimates
GROUP BY tenant, day, team, person, repository, model;

INSERT INTO ${database}.ai_people_daily (tenant, day, team, person, repository, assistant, model, generations,
                                         accepted_generations, input_tokens, output_tokens, cost_usd, lines_added,
                                         accepted_lines)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, if(user_email != '', user_email, user_id) AS person, repository,
       assistant, model, count(), countIf(decision = 'accepted'), sum(input_tokens), sum(output_tokens), sum(cost_usd),
       sum(toUInt64(lines_added)), sumIf(toUInt64(lines_added), decision = 'accepted')
FROM ${database}.ai_generations
GROUP BY tenant, day, team, person, repository, assistant, model
ORDER BY tenant, day, team, person, repository, assistant, model
SETTINGS insert_deduplication_token = '0011_people_daily.ai_generations';

-- One estimate per generation span (the table may still hold a retried batch's copy: take one per span).
INSERT INTO ${database}.ai_people_daily (tenant, day, team, person, repository, assistant, model, estimated_cost_usd)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, user_email AS person, repository, '' AS assistant, model,
       sum(estimated_cost_usd)
FROM (SELECT tenant, span_id, any(timestamp) AS timestamp, any(team) AS team, any(user_email) AS user_email,
             any(repository) AS repository, any(model) AS model, any(estimated_cost_usd) AS estimated_cost_usd
      FROM ${database}.ai_cost_estimates GROUP BY tenant, span_id)
GROUP BY tenant, day, team, person, repository, model
ORDER BY tenant, day, team, person, repository, model
SETTINGS insert_deduplication_token = '0011_people_daily.ai_cost_estimates';
