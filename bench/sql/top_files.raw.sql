-- The same question from the raw spans.
SELECT
    SpanAttributes['vcs.repository.url.full'] AS repository,
    SpanAttributes['code.file.path'] AS file_path,
    count() AS generations,
    sum(toUInt32OrZero(SpanAttributes['aitrail.code.lines_added'])) AS ai_lines
FROM aitrail.otel_traces
WHERE ResourceAttributes['aitrail.tenant.id'] = {tenant:String}
  AND Timestamp >= {start:DateTime64(9, 'UTC')} AND Timestamp < {end:DateTime64(9, 'UTC')}
  AND SpanAttributes['aitrail.kind'] = 'generation'
  AND SpanAttributes['aitrail.decision'] = 'accepted'
GROUP BY repository, file_path
ORDER BY ai_lines DESC, repository, file_path
LIMIT {limit:UInt32}
