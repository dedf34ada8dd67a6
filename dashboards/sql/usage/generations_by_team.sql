-- Generations each UTC day, per team.
SELECT
    toDateTime(day, 'UTC') AS time,
    team,
    sum(generations) AS generations
FROM aitrail.ai_usage_daily
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
GROUP BY day, team
ORDER BY time, team
