-- Adoption: people and teams using AI each week (weeks start on Monday, UTC), from the daily rollup per person.
SELECT
    toDateTime(toMonday(day), 'UTC') AS time,
    uniqExactIf(d.person, d.generations > 0 AND d.person != '') AS people,
    uniqExactIf(d.team, d.generations > 0) AS teams
FROM aitrail.ai_people_daily AS d
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY time
HAVING people > 0
ORDER BY time
