-- AI usage per team over the last {days} UTC days, today included: the question a team lead asks
-- first. Read from the daily rollup (migrations 0006, 0007): a row per team, assistant, model and day.
SELECT
    team,
    sum(generations) AS generations,
    uniqExactMerge(people) AS people,
    sum(input_tokens) + sum(output_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost_usd,
    sum(lines_added) AS lines_added,
    round(sum(accepted_generations) / generations, 3) AS accepted_share
FROM aitrail.ai_usage_daily
WHERE day > toDate(now(), 'UTC') - {days:UInt32}
GROUP BY team
HAVING generations > 0
ORDER BY generations DESC, team
