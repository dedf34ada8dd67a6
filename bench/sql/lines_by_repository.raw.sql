-- The same question from the raw spans.
SELECT
    SpanAttributes['vcs.repository.url.full'] AS repository,
    count() AS generations,
    sum(toUInt32OrZero(SpanAttributes['aitrail.code.lines_added'])) AS ai_lines,
    sumIf(toUInt32OrZero(SpanAttributes['aitrail.code.lines_added']), SpanAttributes['aitrail.decision'] = 'accepted') AS accepted_lines,
    sum(toUInt32OrZero(SpanAttributes['aitrail.code.lines_removed'])) AS removed_lines,
    uniqExact(SpanAttributes['code.file.path']) AS files,
    uniqExact(if(SpanAttributes['user.id'] != '', SpanAttributes['user.id'], ResourceAttributes['user.id'])) AS people
FROM aitrail.otel_traces
WHERE ResourceAttributes['aitrail.tenant.id'] = {tenant:String}
  AND Timestamp >= {start:DateTime64(9, 'UTC')} AND Timestamp < {end:DateTime64(9, 'UTC')}
  AND SpanAttributes['aitrail.kind'] = 'generation'
GROUP BY repository
ORDER BY ai_lines DESC, repository
