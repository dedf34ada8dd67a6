-- AI usage per team over the last {days} days: the question a team lead asks first.
SELECT
    team,
    count() AS generations,
    uniqExact(user_id) AS people,
    sum(input_tokens + output_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost_usd,
    sum(lines_added) AS lines_added,
    round(countIf(decision = 'accepted') / count(), 3) AS accepted_share
FROM aitrail.ai_generations
WHERE timestamp >= now64(9) - toIntervalDay({days:UInt32})
GROUP BY team
ORDER BY generations DESC, team
