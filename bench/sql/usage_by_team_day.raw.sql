-- The same question from the raw spans: every value is a string in a Map, read row by row.
-- Span attributes win over resource attributes of the same name (as in the materialized view).
SELECT
    if(SpanAttributes['aitrail.team'] != '', SpanAttributes['aitrail.team'], ResourceAttributes['aitrail.team']) AS team,
    toDate(Timestamp, 'UTC') AS day,
    count() AS generations,
    uniqExact(if(SpanAttributes['user.id'] != '', SpanAttributes['user.id'], ResourceAttributes['user.id'])) AS people,
    sum(toUInt64OrZero(SpanAttributes['gen_ai.usage.input_tokens']) + toUInt64OrZero(SpanAttributes['gen_ai.usage.output_tokens'])) AS tokens,
    sum(toFloat64OrZero(SpanAttributes['aitrail.cost.usd'])) AS cost_usd
FROM aitrail.otel_traces
WHERE ResourceAttributes['aitrail.tenant.id'] = {tenant:String}
  AND Timestamp >= {start:DateTime64(9, 'UTC')} AND Timestamp < {end:DateTime64(9, 'UTC')}
  AND SpanAttributes['aitrail.kind'] = 'generation'
GROUP BY team, day
ORDER BY day, team
