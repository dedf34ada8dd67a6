-- Tenancy on a ClickHouse server with row policies: each tenant's ClickHouse user reads only its
-- tenant's rows, enforced by the server for every query shape (subqueries, joins, table functions).
-- Text to adapt, not run by the compose setup. Run as an administrator, after users.sql:
--     clickhouse-client --user <admin> --ask-password --multiquery < row_policies.sql
--
-- The embedded store (chDB) has no users or row policies: there the aitrail SQL endpoint gives each
-- token's tenant a database of filtered views instead (collector/sqlendpoint/tenancy.py). On a server,
-- use either (the collector's endpoint works against a server too), or both.
--
-- Convention: a tenant's ClickHouse user is named exactly like its tenant id (aitrail.tenant.id), so
-- one policy per table serves every tenant: rows whose tenant is currentUser().
--
-- On a cluster (cluster.sql) the rows are in each shard's aitrail_local tables, under the Distributed
-- tables of aitrail: create every policy and grant below on aitrail_local.<table> too, and give the
-- cluster an interserver secret (<secret> in remote_servers), so the shards run a tenant's query as the
-- tenant's user; without it they run it as the cluster's configured user, whom no policy filters.

CREATE ROLE IF NOT EXISTS aitrail_tenant_reader;
GRANT SELECT ON aitrail.otel_traces TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.otel_logs TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.otel_metrics_gauge TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.otel_metrics_sum TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.otel_metrics_histogram TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.otel_metrics_exponential_histogram TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.otel_metrics_summary TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_generations TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_usage_daily TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_files_daily TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_repositories_daily TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_commits TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_commit_files TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_commits_daily TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_line_origins TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_findings TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_incidents TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_signoffs TO aitrail_tenant_reader;
GRANT SELECT ON aitrail.ai_cost_estimates TO aitrail_tenant_reader;
-- Not granted: otel_traces_trace_id_ts (no tenant in it), schema_migrations, system tables beyond
-- what every user may read (a tenant user should not see system.query_log of others: keep
-- access_management off for it and do not grant SYSTEM or SHOW privileges).

-- The tenant's rows, for the tenant role.
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.otel_traces USING ResourceAttributes['aitrail.tenant.id'] = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.otel_logs USING ResourceAttributes['aitrail.tenant.id'] = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.otel_metrics_gauge USING ResourceAttributes['aitrail.tenant.id'] = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.otel_metrics_sum USING ResourceAttributes['aitrail.tenant.id'] = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.otel_metrics_histogram USING ResourceAttributes['aitrail.tenant.id'] = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.otel_metrics_exponential_histogram USING ResourceAttributes['aitrail.tenant.id'] = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.otel_metrics_summary USING ResourceAttributes['aitrail.tenant.id'] = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_generations USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_usage_daily USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_files_daily USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_repositories_daily USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_commits USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_commit_files USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_commits_daily USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_line_origins USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_findings USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_incidents USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_signoffs USING tenant = currentUser() TO aitrail_tenant_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_tenant ON aitrail.ai_cost_estimates USING tenant = currentUser() TO aitrail_tenant_reader;

-- Once a table has a row policy, users without one may see no rows of it (depending on the server's
-- users_without_row_policies_can_read_rows): give the collector, the dashboards' reader and the
-- materialized views' definer every row explicitly.
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.otel_traces USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.otel_logs USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.otel_metrics_gauge USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.otel_metrics_sum USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.otel_metrics_histogram USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.otel_metrics_exponential_histogram USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.otel_metrics_summary USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_generations USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_usage_daily USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_files_daily USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_repositories_daily USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_commits USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_commit_files USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_commits_daily USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_line_origins USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_findings USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_incidents USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_signoffs USING 1 TO aitrail_writer, aitrail_reader;
CREATE ROW POLICY IF NOT EXISTS aitrail_all ON aitrail.ai_cost_estimates USING 1 TO aitrail_writer, aitrail_reader;

-- One user per tenant, named like the tenant (back-quoted: tenant ids may hold . : @ -). Read-only,
-- with the tenant role only. Repeat for each tenant; replace the password.
CREATE USER IF NOT EXISTS `acme` IDENTIFIED WITH sha256_password BY 'CHANGE_ME_ACME_PASSWORD'
    DEFAULT DATABASE aitrail
    SETTINGS readonly = 1, max_execution_time CHANGEABLE_IN_READONLY;
GRANT aitrail_tenant_reader TO `acme`;
SET DEFAULT ROLE aitrail_tenant_reader TO `acme`;

-- A per-user policy instead of the naming convention (tenant id differs from the user name):
--   CREATE ROW POLICY aitrail_tenant_globex ON aitrail.ai_generations USING tenant = 'globex' TO `globex-readers`;
-- and the same for the three daily rollups (ai_usage_daily, ai_files_daily, ai_repositories_daily),
-- and for the seven raw tables with ResourceAttributes['aitrail.tenant.id'] = 'globex'.
