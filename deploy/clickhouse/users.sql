-- Least-privilege ClickHouse users for aitrail. Run as an administrator, once per server
-- (on a cluster: add ON CLUSTER '{cluster}' after each user name, or keep users in a
-- replicated user directory).
--
-- Replace the three CHANGE_ME_* passwords first (deploy/clickhouse/initdb/10-aitrail-users.sh
-- does that from environment variables when docker compose starts ClickHouse the first time):
--     clickhouse-client --user <admin> --ask-password --multiquery < users.sql
--
-- On a cluster (cluster.sql) the tables people name are Distributed ones in `aitrail` over each shard's
-- tables in `aitrail_local`; the grants below cover both, and the settings the users run with make the
-- same queries work there: inserts reach the shards before they are acknowledged
-- (distributed_foreground_insert), and a join or IN over a second table stays on each shard, where a
-- tenant's rows all are (distributed_product_mode = 'local'). On one server neither changes anything.
--
-- Passwords travel inside URLs (AITRAIL_CLICKHOUSE_URL=http://aitrail_writer:PASSWORD@host:8123):
-- use letters, digits and - _ . ~ only, e.g. `openssl rand -hex 24`.

-- The database exists before the first collector starts, so its owner needs no server-wide rights.
CREATE DATABASE IF NOT EXISTS aitrail;

-- aitrail's collector: applies the migrations (CREATE TABLE / VIEW, ALTER for later ones),
-- inserts, and serves read-only SQL (each query of its SQL endpoint runs with readonly = 1).
-- The materialized views run with their creator's rights: keep this user (or re-create the
-- views) when rotating credentials.
CREATE USER IF NOT EXISTS aitrail_writer
    IDENTIFIED WITH sha256_password BY 'CHANGE_ME_WRITER_PASSWORD'
    DEFAULT DATABASE aitrail
    SETTINGS distributed_foreground_insert = 1, distributed_product_mode = 'local';
GRANT CREATE DATABASE, CREATE TABLE, CREATE VIEW, ALTER, INSERT, SELECT ON aitrail.* TO aitrail_writer;
GRANT INSERT, SELECT ON aitrail_local.* TO aitrail_writer;

-- Grafana (and any other dashboard or BI tool): reads only. readonly = 1 also forbids changing
-- settings, except max_execution_time, which the ClickHouse data source sets on every query.
-- If a tool reports "Cannot modify '<setting>' setting in readonly mode", allow that setting
-- the same way (ALTER USER aitrail_reader SETTINGS readonly = 1, <setting> CHANGEABLE_IN_READONLY, ...).
-- SELECT on exactly the tables aitrail's dashboards, reports and linkage read (their SQL in
-- aitrail/dashboards/sql and aitrail/linkage/sql; tests/deploy keeps the list equal to what that SQL
-- names), not on aitrail.*: not schema_migrations, nor otel_metrics_*, nor ai_prices.
CREATE USER IF NOT EXISTS aitrail_reader
    IDENTIFIED WITH sha256_password BY 'CHANGE_ME_READER_PASSWORD'
    DEFAULT DATABASE aitrail
    SETTINGS readonly = 1, distributed_product_mode = 'local', max_execution_time CHANGEABLE_IN_READONLY;
GRANT SELECT ON aitrail.otel_traces TO aitrail_reader;
GRANT SELECT ON aitrail.otel_logs TO aitrail_reader;
GRANT SELECT ON aitrail.ai_generations TO aitrail_reader;
GRANT SELECT ON aitrail.ai_usage_daily TO aitrail_reader;
GRANT SELECT ON aitrail.ai_files_daily TO aitrail_reader;
GRANT SELECT ON aitrail.ai_repositories_daily TO aitrail_reader;
GRANT SELECT ON aitrail.ai_commits TO aitrail_reader;
GRANT SELECT ON aitrail.ai_commit_files TO aitrail_reader;
GRANT SELECT ON aitrail.ai_line_origins TO aitrail_reader;
GRANT SELECT ON aitrail.ai_findings TO aitrail_reader;
GRANT SELECT ON aitrail.ai_incidents TO aitrail_reader;
GRANT SELECT ON aitrail.ai_signoffs TO aitrail_reader;
GRANT SELECT ON aitrail.ai_cost_estimates TO aitrail_reader;
-- The same tables on each shard, for a cluster whose nodes pass the user on (an interserver secret).
GRANT SELECT ON aitrail_local.otel_traces TO aitrail_reader;
GRANT SELECT ON aitrail_local.otel_logs TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_generations TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_usage_daily TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_files_daily TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_repositories_daily TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_commits TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_commit_files TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_line_origins TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_findings TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_incidents TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_signoffs TO aitrail_reader;
GRANT SELECT ON aitrail_local.ai_cost_estimates TO aitrail_reader;
-- Optional: hide prompt texts from dashboards (the audit team reads them with another user).
-- REVOKE SELECT(prompt) ON aitrail.ai_generations FROM aitrail_reader;

-- The OpenTelemetry Collector's clickhouse exporter (deploy/otelcol/config.yaml, with
-- create_schema: false): inserts into the raw tables and nothing else. The materialized views
-- fill ai_generations and otel_traces_trace_id_ts with their creator's (aitrail_writer's) rights.
CREATE USER IF NOT EXISTS aitrail_otelcol
    IDENTIFIED WITH sha256_password BY 'CHANGE_ME_OTELCOL_PASSWORD'
    DEFAULT DATABASE aitrail
    SETTINGS distributed_foreground_insert = 1;
GRANT INSERT ON aitrail.otel_traces TO aitrail_otelcol;
GRANT INSERT ON aitrail.otel_logs TO aitrail_otelcol;
GRANT INSERT ON aitrail.otel_metrics_gauge TO aitrail_otelcol;
GRANT INSERT ON aitrail.otel_metrics_sum TO aitrail_otelcol;
GRANT INSERT ON aitrail.otel_metrics_histogram TO aitrail_otelcol;
GRANT INSERT ON aitrail.otel_metrics_exponential_histogram TO aitrail_otelcol;
GRANT INSERT ON aitrail.otel_metrics_summary TO aitrail_otelcol;
GRANT INSERT ON aitrail_local.otel_traces TO aitrail_otelcol;
GRANT INSERT ON aitrail_local.otel_logs TO aitrail_otelcol;
GRANT INSERT ON aitrail_local.otel_metrics_gauge TO aitrail_otelcol;
GRANT INSERT ON aitrail_local.otel_metrics_sum TO aitrail_otelcol;
GRANT INSERT ON aitrail_local.otel_metrics_histogram TO aitrail_otelcol;
GRANT INSERT ON aitrail_local.otel_metrics_exponential_histogram TO aitrail_otelcol;
GRANT INSERT ON aitrail_local.otel_metrics_summary TO aitrail_otelcol;
