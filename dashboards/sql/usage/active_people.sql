-- People who used AI each UTC day, per team (distinct people: e-mail address, else user id), from the daily rollup per
-- person.
SELECT
    toDateTime(day, 'UTC') AS time,
    team,
    uniqExactIf(d.person, d.generations > 0 AND d.person != '') AS people
FROM aitrail.ai_people_daily AS d
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY day, team
HAVING people > 0
ORDER BY time, team
