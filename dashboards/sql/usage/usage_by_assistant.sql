-- Which assistants and models wrote the code over the time range (whole UTC days), from the daily rollup per person.
-- The cost the price table estimated from tokens is known per model, not per assistant: it is its own row per model,
-- with no assistant and no generations.
SELECT
    assistant,
    model,
    sum(d.generations) AS generations,
    uniqExactIf(d.person, d.generations > 0 AND d.person != '') AS people,
    sum(d.input_tokens) + sum(d.output_tokens) AS tokens,
    round(sum(d.cost_usd) + sum(d.estimated_cost_usd), 4) AS cost_usd,
    round(sum(d.estimated_cost_usd), 4) AS estimated_cost_usd,
    sum(d.lines_added) AS lines_added
FROM aitrail.ai_people_daily AS d
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
  AND $__conditionalAll(repository IN (${repository}), $repository)
GROUP BY assistant, model
HAVING generations > 0 OR cost_usd > 0
ORDER BY generations DESC, assistant, model
