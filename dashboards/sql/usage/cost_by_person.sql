-- Tokens and cost per person (the 20 who cost most), from the generations themselves: people are not in the
-- rollups. The time range here is exact, not whole days.
SELECT
    if(user_email != '', user_email, user_id) AS person,
    arrayStringConcat(arraySort(groupUniqArray(team)), ', ') AS teams,
    count() AS generations,
    sum(input_tokens) + sum(output_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost_usd
FROM aitrail.ai_generations
WHERE $__timeFilter(timestamp)
  AND $__conditionalAll(team IN (${team}), $team)
  AND $__conditionalAll(assistant IN (${assistant}), $assistant)
  AND $__conditionalAll(model IN (${model}), $model)
GROUP BY person
ORDER BY cost_usd DESC, tokens DESC, person
LIMIT 20
