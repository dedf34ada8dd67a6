-- The headline numbers over the time range (whole UTC days): generations, people, tokens, cost, lines written.
SELECT
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
