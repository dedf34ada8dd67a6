-- Generations, people, tokens and cost per team per day (the typed table the materialized view fills).
SELECT
    team,
    toDate(timestamp, 'UTC') AS day,
    count() AS generations,
    uniqExact(user_id) AS people,
    sum(input_tokens + output_tokens) AS tokens,
    sum(cost_usd) AS cost_usd
FROM aitrail.ai_generations
WHERE tenant = {tenant:String}
  AND timestamp >= {start:DateTime64(9, 'UTC')} AND timestamp < {end:DateTime64(9, 'UTC')}
GROUP BY team, day
ORDER BY day, team
