-- Commits, findings and incidents as typed rows, and the lookup that links a line to the generations
-- that wrote it (docs/design/records.md). Like ai_generations, each is a materialized view over
-- otel_traces (a span with aitrail.kind = commit | finding | incident), so every writer of the raw table
-- feeds them. Records carry deterministic ids: the tables are ReplacingMergeTree on the id, versioned by
-- the time the row arrived (recorded_at), so a re-import adds nothing visible and a later record of the
-- same id (a status change) replaces the earlier one. Read them with FINAL (or argMax by recorded_at).

CREATE TABLE IF NOT EXISTS ${database}.ai_commits (
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
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (tenant, repository, commit)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_commits_mv
TO ${database}.ai_commits
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
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'commit';

CREATE TABLE IF NOT EXISTS ${database}.ai_commit_files (
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
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (tenant, repository, commit, file_path)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_commit_files_mv
TO ${database}.ai_commit_files
AS SELECT
    tenant, timestamp, repository, commit,
    f.1 AS file_path,
    f.2 AS lines_added,
    f.3 AS ai_lines,
    team, author_email, recorded_at
FROM ${database}.ai_commits
ARRAY JOIN JSONExtract(files, 'Array(Tuple(path String, added UInt32, ai UInt32))') AS f;

-- One row per fingerprinted line a generation wrote, sorted by fingerprint: a finding's line finds its
-- generations by a range read on the key, not a scan of every generation's array.
CREATE TABLE IF NOT EXISTS ${database}.ai_line_origins (
    tenant LowCardinality(String),
    fingerprint UInt64,
    timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    repository LowCardinality(String),
    file_path String CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    assistant LowCardinality(String),
    model LowCardinality(String),
    user_email String CODEC(ZSTD(1)),
    team LowCardinality(String)
) ENGINE = MergeTree
ORDER BY (tenant, fingerprint, timestamp)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_line_origins_mv
TO ${database}.ai_line_origins
AS SELECT tenant, fingerprint, timestamp, repository, file_path, trace_id, span_id, assistant, model, user_email, team
FROM ${database}.ai_generations
ARRAY JOIN line_fingerprints AS fingerprint;

CREATE TABLE IF NOT EXISTS ${database}.ai_findings (
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
    recorded_at DateTime64(9)
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (tenant, finding_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_findings_mv
TO ${database}.ai_findings
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
    now64(9) AS recorded_at
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'finding';

CREATE TABLE IF NOT EXISTS ${database}.ai_incidents (
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
) ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (tenant, incident_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.ai_incidents_mv
TO ${database}.ai_incidents
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
FROM ${database}.otel_traces
WHERE SpanAttributes['aitrail.kind'] = 'incident';

-- Lines of generations stored before this migration, copied in once (the token makes a second run a no-op).
INSERT INTO ${database}.ai_line_origins (tenant, fingerprint, timestamp, repository, file_path, trace_id, span_id,
                                        assistant, model, user_email, team)
SELECT tenant, fingerprint, timestamp, repository, file_path, trace_id, span_id, assistant, model, user_email, team
FROM ${database}.ai_generations
ARRAY JOIN line_fingerprints AS fingerprint
ORDER BY tenant, fingerprint, timestamp
SETTINGS insert_deduplication_token = '0008_commits_findings_incidents.ai_line_origins';
