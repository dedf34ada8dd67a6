-- Retention for aitrail's tables: ClickHouse deletes rows past their TTL in the background.
-- Nothing expires until you run this (the schema has no TTL). Adjust the intervals to your
-- policy, then, as an administrator:
--     clickhouse-client --user <admin> --ask-password --multiquery < retention.sql
-- On a cluster add ON CLUSTER '{cluster}' after each table name.
--
-- ai_generations (the audit trail) is filled when spans arrive, so it keeps its rows when the
-- raw spans behind them expire: keep it as long as you may need to answer "who wrote this line?".
-- The raw tables are partitioned by day with ttl_only_drop_parts = 1, so expired days are
-- dropped as whole parts, cheaply.
--
-- Changing a TTL rewrites the TTL information of every existing part. On large tables, run
-- SET materialize_ttl_after_modify = 0; first: the new TTL then applies as parts merge.

ALTER TABLE aitrail.ai_generations MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
-- The daily rollups of ai_generations (migration 0006) are small: keep them as long.
ALTER TABLE aitrail.ai_usage_daily MODIFY TTL day + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_files_daily MODIFY TTL day + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_repositories_daily MODIFY TTL day + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_people_daily MODIFY TTL day + INTERVAL 730 DAY;
-- Commits, sign-offs, findings and incidents (migrations 0008, 0009) are the accountability record and the
-- line lookup is what links a finding to its generation: keep them as long as ai_generations.
ALTER TABLE aitrail.ai_commits MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_commit_files MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_commits_daily MODIFY TTL day + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_line_origins MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_findings MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_incidents MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_signoffs MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
-- Estimated costs live as long as their generations; the price table is reference data the collector writes
-- again at start when it differs (a row older than ten years is simply written again).
ALTER TABLE aitrail.ai_cost_estimates MODIFY TTL toDateTime(timestamp) + INTERVAL 730 DAY;
ALTER TABLE aitrail.ai_prices MODIFY TTL toDateTime(updated_at) + INTERVAL 3650 DAY;

ALTER TABLE aitrail.otel_traces MODIFY TTL toDateTime(Timestamp) + INTERVAL 90 DAY;
ALTER TABLE aitrail.otel_traces_trace_id_ts MODIFY TTL toDateTime(Start) + INTERVAL 90 DAY;
ALTER TABLE aitrail.otel_logs MODIFY TTL TimestampTime + INTERVAL 30 DAY;

ALTER TABLE aitrail.otel_metrics_gauge MODIFY TTL toDateTime(TimeUnix) + INTERVAL 90 DAY;
ALTER TABLE aitrail.otel_metrics_sum MODIFY TTL toDateTime(TimeUnix) + INTERVAL 90 DAY;
ALTER TABLE aitrail.otel_metrics_histogram MODIFY TTL toDateTime(TimeUnix) + INTERVAL 90 DAY;
ALTER TABLE aitrail.otel_metrics_exponential_histogram MODIFY TTL toDateTime(TimeUnix) + INTERVAL 90 DAY;
ALTER TABLE aitrail.otel_metrics_summary MODIFY TTL toDateTime(TimeUnix) + INTERVAL 90 DAY;
