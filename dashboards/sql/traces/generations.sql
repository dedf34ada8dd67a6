-- The latest AI generations in the time range, each a link to its trace (the span tree the assistant sent).
SELECT
    timestamp,
    trace_id,
    team,
    if(user_email != '', user_email, user_id) AS person,
    assistant,
    model,
    file_path,
    lines_added,
    decision
FROM aitrail.ai_generations
WHERE $__timeFilter(timestamp)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
ORDER BY timestamp DESC
LIMIT 200
