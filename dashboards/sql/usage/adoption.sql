-- Adoption: people and teams using AI each week (weeks start on Monday, UTC).
SELECT
    toDateTime(toMonday(day), 'UTC') AS time,
    uniqExactMerge(people) AS people,
    uniqExact(team) AS teams
FROM aitrail.ai_usage_daily
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
GROUP BY time
ORDER BY time
