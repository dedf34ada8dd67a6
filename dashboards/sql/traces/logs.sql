-- The assistants' log events (Claude Code, Codex and Gemini CLI send their prompts and tool calls as logs),
-- in the columns the data source's logs view reads.
SELECT
    Timestamp AS timestamp,
    Body AS body,
    SeverityText AS level,
    ServiceName AS service,
    TraceId AS traceID,
    LogAttributes AS labels
FROM aitrail.otel_logs
WHERE $__timeFilter(Timestamp)
ORDER BY Timestamp DESC
LIMIT 1000
