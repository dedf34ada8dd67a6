-- What earlier runs derived in the window (collector/derive/*.sql start their WITH with it, as ${derived}):
-- derived_ids, the span ids of derived generations and the requests whose tokens they carry;
-- derived_calls, (tenant, tool call id) of the tool calls they came from.
derived AS (
    SELECT SpanId AS derived_span, ResourceAttributes['aitrail.tenant.id'] AS derived_tenant,
           SpanAttributes['gen_ai.tool.call.id'] AS derived_call, SpanAttributes['aitrail.derived.request'] AS carried
    FROM ${database}.otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({window_start:Int64})
      AND SpanName = 'aitrail.derived.generation'
      AND ScopeName = 'aitrail.derive.${dialect}'
)
, derived_ids AS (
    SELECT arrayJoin(arrayFilter(x -> x != '', [derived_span, carried])) AS id FROM derived
)
, derived_calls AS (
    SELECT derived_tenant, derived_call FROM derived WHERE derived_call != ''
)
