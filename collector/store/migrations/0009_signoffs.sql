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
