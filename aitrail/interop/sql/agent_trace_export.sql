-- aitrail's generations that wrote lines, for `aitrail export agent-trace` (aitrail.interop.agent_trace):
-- each with what only its span carries (line ranges, contributor type, conversation URL: set on imported
-- generations) and the earliest commit that carried it (ai_commits.generation_ids).
SELECT
    toUnixTimestamp64Nano(g.timestamp) AS time_ns,
    g.trace_id AS trace_id,
    g.span_id AS span_id,
    g.repository AS repository,
    g.commit AS commit,
    g.file_path AS file_path,
    g.line_start AS line_start,
    g.line_end AS line_end,
    g.model AS model,
    g.provider AS provider,
    g.assistant AS assistant,
    g.session_id AS session_id,
    g.user_email AS user_email,
    g.user_name AS user_name,
    g.team AS team,
    g.line_fingerprints AS fingerprints,
    s.ranges AS ranges,
    s.contributor AS contributor,
    s.conversation_url AS conversation_url,
    c.commit AS committed_in
FROM aitrail.ai_generations AS g
LEFT JOIN (
    SELECT
        TraceId AS trace_id,
        SpanId AS span_id,
        SpanAttributes['aitrail.code.line_ranges'] AS ranges,
        SpanAttributes['aitrail.contributor.type'] AS contributor,
        SpanAttributes['aitrail.conversation.url'] AS conversation_url
    FROM aitrail.otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})
      AND SpanAttributes['aitrail.kind'] = 'generation'
      AND SpanAttributes['aitrail.import.source'] != ''
) AS s ON s.trace_id = g.trace_id AND s.span_id = g.span_id
LEFT JOIN (
    SELECT span_id, argMin(commit, timestamp) AS commit
    FROM (SELECT arrayJoin(generation_ids) AS span_id, commit, timestamp FROM aitrail.ai_commits)
    GROUP BY span_id
) AS c ON c.span_id = g.span_id
WHERE g.timestamp >= fromUnixTimestamp64Nano({since_ns:Int64})
  AND ({repository:String} = '' OR g.repository = {repository:String})
  AND g.line_start > 0
ORDER BY g.timestamp, g.trace_id, g.span_id
