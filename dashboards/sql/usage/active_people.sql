-- People who used AI each UTC day, per team (distinct user ids, exact).
SELECT
    toDateTime(day, 'UTC') AS time,
    team,
    uniqExactMerge(people) AS people
FROM aitrail.ai_usage_daily
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
GROUP BY day, team
ORDER BY time, team
