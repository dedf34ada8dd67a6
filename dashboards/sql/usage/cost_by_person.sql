-- Tokens and cost per person (the 20 who cost most) over the time range (whole UTC days), from the daily rollup per
-- person (migration 0011): the cost with the part the price table estimated from tokens, that part also apart (NULL,
-- unknown, with an assistant chosen: estimates are not known per assistant).
SELECT
    person,
    arrayStringConcat(arraySort(groupUniqArrayIf(d.team, d.generations > 0)), ', ') AS teams,
    sum(d.generations) AS generations,
    sum(d.input_tokens) + sum(d.output_tokens) AS tokens,
    round(sum(d.cost_usd) + sum(d.estimated_cost_usd), 4) AS cost_usd,
    if($__conditionalAll(0, $assistant), round(sum(d.estimated_cost_usd), 4), NULL) AS estimated_cost_usd
FROM aitrail.ai_people_daily AS d
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY person
HAVING generations > 0
ORDER BY cost_usd DESC, tokens DESC, person
LIMIT 20
