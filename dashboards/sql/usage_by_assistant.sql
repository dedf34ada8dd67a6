-- Which assistants and models wrote the code, over the last {days} days.
SELECT
    assistant,
    model,
    count() AS generations,
    uniqExact(user_id) AS people,
    sum(input_tokens + output_tokens) AS tokens,
    round(sum(cost_usd), 2) AS cost_usd,
    sum(lines_added) AS lines_added
FROM aitrail.ai_generations
WHERE timestamp >= now64(9) - toIntervalDay({days:UInt32})
GROUP BY assistant, model
ORDER BY generations DESC, assistant, model
