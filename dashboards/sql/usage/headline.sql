-- The headline numbers over the time range (whole UTC days): generations, people, tokens, cost (with the part the
-- price table estimated from tokens, NULL with an assistant chosen), lines written. From the daily rollup per person.
SELECT
    sum(d.generations) AS generations,
    uniqExactIf(d.person, d.generations > 0 AND d.person != '') AS people,
    sum(d.input_tokens) + sum(d.output_tokens) AS tokens,
    round(sum(d.cost_usd) + sum(d.estimated_cost_usd), 4) AS cost_usd,
    if($__conditionalAll(0, $assistant), round(sum(d.estimated_cost_usd), 4), NULL) AS estimated_cost_usd,
    sum(d.lines_added) AS lines_added
FROM aitrail.ai_people_daily AS d
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
  AND $__conditionalAll(repository IN (${repository}), $repository)
