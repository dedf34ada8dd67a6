-- Which assistants and models wrote the code over the time range (whole UTC days).
SELECT
    assistant,
    model,
    sum(generations) AS generations,
    uniqExactMerge(people) AS people,
    sum(input_tokens) + sum(output_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost_usd,
    sum(lines_added) AS lines_added
FROM aitrail.ai_usage_daily
WHERE $__dateFilter(day)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
GROUP BY assistant, model
HAVING generations > 0
ORDER BY generations DESC, assistant, model
