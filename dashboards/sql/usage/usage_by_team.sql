-- AI usage per team over the time range (whole UTC days): the question a team lead asks first.
SELECT
    team,
    sum(generations) AS generations,
    uniqExactMerge(people) AS people,
    sum(input_tokens) + sum(output_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost_usd,
    sum(lines_added) AS lines_added,
    round(sum(accepted_generations) / generations, 3) AS accepted_share
FROM aitrail.ai_usage_daily
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
GROUP BY team
HAVING generations > 0
ORDER BY generations DESC, team
