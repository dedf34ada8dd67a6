-- Two changes to the daily rollups of 0006.
--
-- Accepted generations per day in ai_usage_daily, so the usage reports (`aitrail usage`, and the
-- dashboards that share their SQL: aitrail.dashboards.reports) answer from the rollup — a few
-- thousand rows — instead of every generation: their accepted share needs this count. The column is
-- added, the generations already stored are counted into it once (by extra rows that hold only this
-- count: the table sums rows of one key), and then the materialized view counts new ones as they
-- arrive. The count's deduplication token makes running it again a no-op.
--
-- A rollup's day is the UTC day whatever the engine's time zone: 0006 as first written took the day
-- in the server's (or, embedded, the machine's) zone. The views are set again with the zone named;
-- rows a store in another zone already rolled up keep their local day.
--
-- As with 0005 and 0006, another writer of ai_generations (an OpenTelemetry Collector into a
-- ClickHouse server) should be paused while this runs, or what it writes in between is left out of
-- the accepted count.

ALTER TABLE ${database}.ai_usage_daily
    ADD COLUMN IF NOT EXISTS accepted_generations SimpleAggregateFunction(sum, UInt64) AFTER generations;

INSERT INTO ${database}.ai_usage_daily (tenant, day, team, assistant, model, accepted_generations)
SELECT tenant, toDate(timestamp, 'UTC') AS day, team, assistant, model, countIf(decision = 'accepted')
FROM ${database}.ai_generations
GROUP BY tenant, day, team, assistant, model
HAVING countIf(decision = 'accepted') > 0
ORDER BY tenant, day, team, assistant, model
SETTINGS insert_deduplication_token = '0007_rollup_accepted_and_utc_days.ai_usage_daily';

ALTER TABLE ${database}.ai_usage_daily_mv MODIFY QUERY
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
FROM ${database}.ai_generations AS g
GROUP BY tenant, day, team, assistant, model;

ALTER TABLE ${database}.ai_files_daily_mv MODIFY QUERY
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
FROM ${database}.ai_generations AS g
GROUP BY tenant, day, repository, file_path;

ALTER TABLE ${database}.ai_repositories_daily_mv MODIFY QUERY
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
FROM ${database}.ai_generations AS g
GROUP BY tenant, day, repository;
