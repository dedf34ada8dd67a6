-- Generations, people, tokens and cost per team per day, from the daily rollup (migration 0006):
-- a few rows per team and day, however many generations they hold.
SELECT
    team,
    day,
    sum(generations) AS generations,
    uniqExactMerge(people) AS people,
    sum(input_tokens + output_tokens) AS tokens,
    sum(cost_usd) AS cost_usd
FROM aitrail.ai_usage_daily
WHERE tenant = {tenant:String}
  AND day >= {start_day:Date} AND day < {end_day:Date}
GROUP BY team, day
ORDER BY day, team
